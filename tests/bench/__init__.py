"""The resource's start-up and cost benchmark: ``python -m tests.bench --pyz dist/sagemaker-pipeline-resource.pyz``.

``make bench`` runs exactly that, and prints one table: ``figure | ours | comparison | ratio | target | ok``.
Every run talks to the local SageMaker emulator (``tests/emulator``, 127.0.0.1 only) with fake credentials,
and stops by itself: each figure is a fixed number of runs (``--runs``, ``--docker-runs``) and every process
has a timeout.

What is compared with what, and why:

- **check with nothing new, no container.** The .pyz, run as Concourse runs it (through a symlink named
  ``check``, by its shebang), against a bare boto3 script making the same ListPipelineExecutions call
  (``SortBy=CreationTime, SortOrder=Descending, MaxResults=100``) from the same payload on stdin. Both
  use the interpreter that runs the bench (a ``python3`` on a private PATH, so that a shim such as pyenv's
  adds nothing to either), with the same environment. The boto3 script runs with ``-I -S`` and boto3 put
  on ``sys.path`` by the script: its fastest possible start (no ``site``, whose ``.pth`` hooks can cost
  tens of milliseconds on some machines), so the comparison is as strict as it can be.
- **check in a fresh container.** ``docker run --rm -i --network host IMAGE /opt/resource/check`` (the
  image built from the Dockerfile, the one that ships) against two images the bench builds itself on the
  same base (:mod:`tests.bench.compare`, cached by content):

  - *boto3*: the final image has no boto3 outside the zipapp, and the zipapp's own site-packages are
    pruned (no boto3 at all, botocore trimmed to the resource's operations), so a script run on them would
    not be "plain boto3". The comparison image has the locked dependency tree installed normally (full
    botocore data, byte-compiled, as ``pip install`` leaves it) and runs the same boto3 script.
  - *naive*: the same code packaged the naive way: shiv with its defaults over the whole locked dependency
    tree (every botocore model), unpacked on first run, i.e. in every fresh container.

- **each start-up measure off in turn.** The same image and check, run with
  ``SAGEMAKER_PIPELINE_RESOURCE_STARTUP_OFF=<measure>`` (resource/startup.py MEASURES; a benchmarking switch),
  in the same interleaved loop as the other container figures, against all measures on. The figure is the
  check's own CPU time (user + system, from ``os.wait4`` in a small wrapper in the container: ``docker run``'s
  rusage is the client's), and the saving in ms and %. A measure that needs private CPython or library
  internals has the target ">= 10% saved" (issue #25); the others are information only.
- **API calls per check**, from the emulator's request log: 1 when nothing is new; at most ``max_pages``
  (the documented cap, read from ``resource/config.py``) when the previous version is gone from a
  history of 10,000 executions.
- **history size**: check time and peak RSS (``os.wait4``'s rusage) with 10 and with 10,000 executions.
- **the image**: the layer the resource adds over the base, and that a run writes nothing (``--read-only``
  works and ``docker diff`` of a finished container is empty: nothing is unpacked at run time).

Medians over the runs, after one warm-up run each (the .pyz unpacks itself on its first run outside a
container; a fresh container is fresh every time, so its runs need no warm-up but get one all the same,
for the page cache). Rows that need Docker say ``skipped: no Docker engine`` when none answers. ``--quick``
does one run of the rows that need no Docker (the smoke test, so that ``make test`` checks the bench runs).
"""
