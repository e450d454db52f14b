"""``python -m tests.bench --pyz dist/sagemaker-pipeline-resource.pyz``: what ``make bench`` runs."""

import sys

from tests.bench.bench import main

sys.exit(main())
