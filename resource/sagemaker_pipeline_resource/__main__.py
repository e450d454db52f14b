"""``python -m sagemaker_pipeline_resource check|in|out``: the same dispatcher as the zipapp."""

from sagemaker_pipeline_resource.cli import launch

launch()
