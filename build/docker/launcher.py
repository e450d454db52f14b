#!/usr/bin/env -S python3 -IS
"""The image's /opt/resource/check, in and out: symlinks to this file, which runs the resource's unpacked tree.

The image unpacks the zipapp (sagemaker-pipeline-resource.pyz, next to this file) at build time, and
``site-packages`` here links to that tree. Running the tree directly, rather than the zipapp through the
symlinks, skips what a zipapp costs on every start: Python opening the zip and running its ``__main__``,
then shiv's bootstrap (its own imports, reading its environment from the zip, checking the unpacked tree),
about 8% of an idle check. Same code, same interpreter flags (``-IS``), same dispatch on ``argv[0]``.

First of all it replays the start-up snapshot the image's warm-up runs recorded (``startup.snapshot`` here;
see sagemaker_pipeline_resource/snapshot.py): where each module is, so that a run does not search
``sys.path`` for its modules again.
"""

import gc
import os
import sys

# A benchmarking switch (startup.OFF_ENV): `make bench` names the start-up measures to leave out, one at a time.
switched_off = os.environ.get("SAGEMAKER_PIPELINE_RESOURCE_STARTUP_OFF", "").split(",")

if os.path.basename(sys.argv[0]) == "check" and "gc" not in switched_off:
    # A check lasts a fraction of a second and allocates nothing it must free before it exits: the garbage
    # collector's passes over the ~100,000 objects start-up makes only cost time. `in` and `out` keep
    # it: their waits can last hours. (startup.loading leaves it as it finds it.)
    gc.disable()

# The directory of the step's symlink (/opt/resource), not of this file: Python does not resolve __file__.
# Normalised, so that `./check` and `/opt/resource/check` see the same sys.path (the snapshot compares it).
here = os.path.dirname(os.path.abspath(__file__))
sys.path.append(here + "/site-packages")

from sagemaker_pipeline_resource.startup import snapshot

snapshot.start(here + "/" + snapshot.FILE_NAME)

from sagemaker_pipeline_resource.startup import deferrals as startup

startup.install()  # before anything imports dataclasses (and through it inspect): see startup.DEFERRED

from sagemaker_pipeline_resource.cli import launch

launch()
