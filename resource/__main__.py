"""``python -m sagemaker_pipeline_resource check|in|out``: the same dispatcher as the zipapp."""

import sys

from sagemaker_pipeline_resource.cli import main

sys.exit(main())
