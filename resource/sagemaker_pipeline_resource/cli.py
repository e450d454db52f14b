"""The dispatcher: which step to run, with which streams, and how failures look.

Concourse runs ``/opt/resource/check``, ``in`` and ``out``: three symlinks to one zipapp, so the step is
the base name of ``argv[0]``. Run under any other name (``./sagemaker-pipeline-resource.pyz check <
payload.json``) the step is the first argument. Each step is a function handed its stdin, stdout, stderr,
arguments and environment; :func:`main` only wires the real ones in.

Start-up is most of a check's cost (Concourse runs it in a fresh container every minute), so each runner
imports only what its step needs, when it runs (a check never loads put's or doctor's code), and
:mod:`startup` defers what no step uses before this module imports anything else.

Rules every step follows here, not in each step:

- stdout carries the JSON answer and nothing else: during the step ``sys.stdout`` points at stderr, so a
  stray print (ours or a library's) cannot corrupt the answer.
- stdout is never rewritten: the answer is written exactly as the step made it (nothing secret is in a
  version or in metadata, by construction). Credentials are masked on stderr only (:mod:`redact`).
- The error contract (README "Errors"): a :class:`ResourceError` (bad input, AWS refusing) is one paragraph
  on stderr and exit code 1 (2 for a wrong command line), with no traceback unless ``source.debug`` is true
  (or ``SAGEMAKER_PIPELINE_RESOURCE_DEBUG=1``). This is the one place where it is printed: masked, with
  every control character escaped (a value with a newline or an ANSI escape cannot forge log lines) and cut
  to a bounded length. Anything else is a bug: a one-line summary, exit code 70, and the traceback in debug
  mode; 130 when interrupted. Input is read and bounded in :mod:`inputs` and validated before any AWS call.
"""

from __future__ import annotations

from sagemaker_pipeline_resource.startup import deferrals as startup

# First of all: the imports below (logging, through redact) import modules that startup defers.
startup.install()

import contextlib
import io
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TextIO

from concoursetools import BuildMetadata
from concoursetools.parsing import format_check_output, format_in_out_output

from sagemaker_pipeline_resource import __version__, inputs, redact
from sagemaker_pipeline_resource.abort import Aborted
from sagemaker_pipeline_resource.errors import DEBUG_ENV, ResourceError, UsageError, printable, shown
from sagemaker_pipeline_resource.startup import snapshot

PROGRAM = "sagemaker-pipeline-resource"
STEPS = ("check", "in", "out")
EXIT_USER_ERROR = 1
EXIT_USAGE = 2
EXIT_BUG = 70

USAGE = f"""\
usage: {PROGRAM} check < payload.json
       {PROGRAM} in DESTINATION_DIR < payload.json
       {PROGRAM} out SOURCES_DIR < payload.json
       {PROGRAM} doctor < source.json
       {PROGRAM} --version | --help

A Concourse resource type for AWS SageMaker Pipelines. In a container, Concourse runs it as
/opt/resource/check, /opt/resource/in and /opt/resource/out (symlinks to this file): the step is the
name it is called by, and the payload is JSON on stdin, as Concourse sends it:

  check: {{"source": {{"pipeline": "arn:aws:sagemaker:REGION:ACCOUNT:pipeline/NAME"}}, "version": null}}
  in:    {{"source": {{...}}, "version": {{"execution_arn": "..."}}, "params": {{}}}}
  out:   {{"source": {{...}}, "params": {{"parameters": {{"Name": "value"}}, "wait": true}}}}

doctor reads a source (or a whole payload) and checks credentials, identity and access to the pipeline.
Set "debug": true in source (or {DEBUG_ENV}=1) for tracebacks and botocore's request log.
"""


@dataclass
class Streams:
    stdin: TextIO
    stdout: TextIO
    stderr: TextIO


def _read_payload(stdin: TextIO) -> dict[str, Any]:
    if stdin.isatty():
        raise ResourceError(
            "Waiting for a JSON payload on stdin, but stdin is a terminal.",
            f"Pipe one in, e.g. {PROGRAM} check < payload.json (see --help for its shape).",
        )
    text = inputs.read_stdin(stdin)
    if not text.strip():
        raise ResourceError(
            "stdin was empty: expected the JSON payload that Concourse sends.",
            'For example {"source": {"pipeline": "arn:aws:sagemaker:REGION:ACCOUNT:pipeline/NAME"}}.',
        )
    payload = inputs.loads(
        text,
        "stdin",
        "Concourse sends a JSON object with 'source' (and 'version', 'params'); check the payload file.",
        keys_from="",
    )
    if not isinstance(payload, dict):
        raise ResourceError("The payload on stdin must be a JSON object with a 'source' key.")
    return payload


def _payload_keys(payload: dict[str, Any], allowed: tuple[str, ...], step: str) -> None:
    if "source" not in payload:
        raise ResourceError(
            "The payload has no 'source'.",
            'Give the resource\'s source: {"source": {"pipeline": "arn:aws:sagemaker:...:pipeline/NAME"}}.',
        )
    unknown = sorted(set(payload) - set(allowed))
    if unknown:
        raise ResourceError(
            f"The {step} payload has unknown top-level keys: {', '.join(shown(key) for key in unknown)}.",
            f"A {step} payload has only: {', '.join(allowed)}. Put source keys under 'source' and step params "
            "under 'params'.",
        )


def _register_early(payload: dict[str, Any], environ: Mapping[str, str]) -> None:
    """Mask the payload's and the environment's credentials from the start: a value equal to one of them
    placed in another field (``pipeline``, ``region``, the version) must not be quoted back by the check
    that refuses it, which runs before the source is a :class:`SourceConfig`."""
    source = payload.get("source")
    for key in ("secret_access_key", "session_token"):
        value = source.get(key) if isinstance(source, dict) else None
        if isinstance(value, str):
            redact.register(value, f"source.{key}")
    for name in redact.SECRET_ENVIRONMENT:
        redact.register(environ.get(name), f"the environment's {name}")


def _wants_debug(payload: object, environ: Mapping[str, str]) -> bool:
    source = payload.get("source") if isinstance(payload, dict) else None
    return environ.get(DEBUG_ENV, "") not in ("", "0") or (isinstance(source, dict) and source.get("debug") is True)


def _directory(args: list[str], step: str, what: str) -> Path:
    """The step's one argument: Concourse runs ``in DIR`` and ``out DIR``, never with more."""
    if len(args) != 1:
        raise UsageError(
            f"'{step}' takes exactly one argument, {what}, but it was given {len(args)}.",
            f"Run: {PROGRAM} {step} DIR < payload.json",
        )
    return Path(args[0])


def _build_metadata(environ: Mapping[str, str]) -> BuildMetadata:
    """The build's metadata from Concourse's BUILD_* variables; empty values when run by hand."""
    return BuildMetadata(
        BUILD_ID=environ.get("BUILD_ID", ""),
        BUILD_TEAM_NAME=environ.get("BUILD_TEAM_NAME", ""),
        ATC_EXTERNAL_URL=environ.get("ATC_EXTERNAL_URL", "").rstrip("/"),
        BUILD_NAME=environ.get("BUILD_NAME"),
        BUILD_JOB_NAME=environ.get("BUILD_JOB_NAME"),
        BUILD_PIPELINE_NAME=environ.get("BUILD_PIPELINE_NAME"),
        BUILD_PIPELINE_INSTANCE_VARS=environ.get("BUILD_PIPELINE_INSTANCE_VARS"),
    )


def run_check(payload: dict[str, Any], args: list[str], environ: Mapping[str, str]) -> str:
    with startup.loading():
        from sagemaker_pipeline_resource.concourse import PipelineResource
        from sagemaker_pipeline_resource.versions.version import ExecutionVersion

    _payload_keys(payload, ("source", "version"), "check")
    if args:
        raise UsageError(f"'check' takes no arguments, but it was given {len(args)}.", f"Run: {PROGRAM} check < FILE")
    resource = PipelineResource.from_source(payload["source"])
    raw_version = payload.get("version")
    # Concourse sends null for the first check; anything else must be a version (false, "" or [] are mistakes).
    previous = None if raw_version is None else ExecutionVersion.from_json(raw_version)
    versions = resource.fetch_new_versions(previous)
    return format_check_output([version.to_flat_dict() for version in versions])


def run_in(payload: dict[str, Any], args: list[str], environ: Mapping[str, str]) -> str:
    with startup.loading():
        from sagemaker_pipeline_resource.concourse import PipelineResource
        from sagemaker_pipeline_resource.versions.version import ExecutionVersion

    _payload_keys(payload, ("source", "version", "params"), "in")
    destination = _directory(args, "in", "the destination directory")
    resource = PipelineResource.from_source(payload["source"])
    if payload.get("version") is None:
        raise ResourceError("The in payload has no 'version' to fetch.", 'Give {"version": {"execution_arn": ...}}.')
    version = ExecutionVersion.from_json(payload["version"])
    version, metadata = resource.get(version, destination, _build_metadata(environ), payload.get("params"))
    return format_in_out_output(version.to_flat_dict(), metadata)


def run_out(payload: dict[str, Any], args: list[str], environ: Mapping[str, str]) -> str:
    with startup.loading():
        from sagemaker_pipeline_resource.concourse import PipelineResource

    _payload_keys(payload, ("source", "params"), "out")
    sources = _directory(args, "out", "the build's sources directory")
    resource = PipelineResource.from_source(payload["source"])
    version, metadata = resource.put(sources, _build_metadata(environ), payload.get("params"))
    return format_in_out_output(version.to_flat_dict(), metadata)


def run_doctor(payload: dict[str, Any], args: list[str], environ: Mapping[str, str]) -> str:
    with startup.loading():
        from sagemaker_pipeline_resource.doctor import doctor

    source = payload["source"] if isinstance(payload.get("source"), dict) else payload
    return doctor(_mapping(source, "source"))


def _mapping(value: object, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ResourceError(f"{where} must be a JSON object (a mapping of keys to values), but it is {shown(value)}.")
    return value


RUNNERS: dict[str, Callable[[dict[str, Any], list[str], Mapping[str, str]], str]] = {
    "check": run_check,
    "in": run_in,
    "out": run_out,
    "doctor": run_doctor,
}


def run(step: str, args: list[str], streams: Streams, environ: Mapping[str, str]) -> int:
    """Run one step: read the payload from ``streams.stdin``, answer on ``streams.stdout``."""
    stderr = redact.RedactingStream(streams.stderr)
    try:
        return _run(step, args, streams, stderr, environ)
    finally:
        stderr.flush()


def _print_traceback(stderr: redact.RedactingStream) -> None:
    import traceback  # only debug mode prints one: startup defers the module (start-up cost)

    traceback.print_exc(file=stderr)


def _run(
    step: str, args: list[str], streams: Streams, stderr: redact.RedactingStream, environ: Mapping[str, str]
) -> int:
    debug = environ.get(DEBUG_ENV, "") not in ("", "0")
    try:
        with contextlib.redirect_stdout(stderr), contextlib.redirect_stderr(stderr):
            payload = _read_payload(streams.stdin)
            _register_early(payload, environ)
            debug = _wants_debug(payload, environ)
            if debug:
                print(f"start-up snapshot: {snapshot.status or 'none (not run by the image launcher)'}", file=stderr)
            answer = RUNNERS[step](payload, args, environ)
    except ResourceError as error:
        if debug:
            _print_traceback(stderr)
        # Redacted before it is escaped (an escaped secret would no longer match), then one line of text.
        print(f"error: {printable(str(error))}", file=stderr)
        return error.exit_code
    except Aborted as aborted:
        print(f"aborted by {aborted.name}: exit {aborted.exit_code}", file=stderr)
        return aborted.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=stderr)
        return 130
    except Exception as error:
        if debug:
            _print_traceback(stderr)
        print(
            f"error: unexpected {type(error).__name__} in {step}: {printable(str(error), 300)}. "
            f"This is a bug in {PROGRAM} "
            f'{__version__}: please report it (set "debug": true in source for the traceback).',
            file=stderr,
        )
        return EXIT_BUG
    try:
        streams.stdout.write(answer + ("" if answer.endswith("\n") else "\n"))
        streams.stdout.flush()
    except (BrokenPipeError, ValueError, OSError) as error:  # ValueError: stdout closed in this process
        print(f"error: the answer could not be written to stdout ({_reason(error)}): it was closed.", file=stderr)
        _discard_stdout()
        return EXIT_USER_ERROR
    return 0


def _reason(error: BaseException) -> str:
    return (error.strerror or type(error).__name__) if isinstance(error, OSError) else type(error).__name__


def _discard_stdout() -> None:
    """Point the closed stdout at /dev/null, so that Python's own flush at exit finds nothing to complain about
    (it would print a BrokenPipeError and exit 120)."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno() if sys.stdout is not None else 1)
        os.close(devnull)


def launch() -> NoReturn:
    """Entry point of the zipapp, of the image's launcher and of ``python -m sagemaker_pipeline_resource``:
    :func:`main`, then exit with its code."""
    sys.exit(main())


def _writable(stream: TextIO | None) -> bool:
    """Whether ``stream`` can be written to: a closed descriptor may have been reused by a file opened for
    reading before Python started (``2>&-`` under a wrapper script), and writing to it fails."""
    if stream is None:
        return False
    try:
        os.write(stream.fileno(), b"")
    except (AttributeError, ValueError, io.UnsupportedOperation):
        return True  # not a descriptor (a test's capture): trusted
    except OSError:
        return False
    return True


def _standard_streams() -> Streams:
    """The real streams, with /dev/null in place of any the caller closed (``<&-``, ``>&-``, ``2>&-``).

    Python gives None for a closed one, and a file opened later would take its descriptor (a closed stderr
    would then write the log into that file). A closed stdin reads as empty (the one-paragraph error that
    says so, exit 1); closed stdout or stderr: the step runs, and what it writes there is lost.
    """
    for descriptor in (0, 1, 2):
        try:
            os.fstat(descriptor)
        except OSError:
            os.open(os.devnull, os.O_RDWR)  # takes the lowest free descriptor: this one
    # A closed one's descriptor may be taken already (by the zipapp itself, opened by zipimport): never used.
    stdin = sys.stdin if sys.stdin is not None else Path(os.devnull).open(encoding="utf-8")  # noqa: SIM115
    stdout = sys.stdout if _writable(sys.stdout) else Path(os.devnull).open("w", encoding="utf-8")  # noqa: SIM115
    stderr = sys.stderr if _writable(sys.stderr) else Path(os.devnull).open("w", encoding="utf-8")  # noqa: SIM115
    sys.stdout, sys.stderr = stdout, stderr
    return Streams(stdin, stdout, stderr)


def main(argv: list[str] | None = None) -> int:
    """Run the step ``argv`` (default ``sys.argv``) asks for with the real streams; return the exit code."""
    argv = list(sys.argv if argv is None else argv)
    streams = _standard_streams()
    name = Path(argv[0]).name if argv else PROGRAM
    if name in STEPS:
        return run(name, argv[1:], streams, os.environ)
    args = argv[1:]
    if not args:
        streams.stderr.write(
            f"error: called as '{name}' with no step: Concourse links this file as check, in or out (the step is "
            "the program's name); under any other name, give the step as the first argument.\n\n" + USAGE
        )
        return EXIT_USAGE
    if args[0] in ("-h", "--help", "help"):
        streams.stdout.write(USAGE)
        return 0
    if args[0] in ("-V", "--version"):
        streams.stdout.write(f"{PROGRAM} {__version__}\n")
        return 0
    if args[0] in RUNNERS:
        return run(args[0], args[1:], streams, os.environ)
    streams.stderr.write(
        f"error: unknown step '{args[0]}' (called as '{name}'). The step is the program's name when it is "
        f"linked as check, in or out, or else its first argument: one of {', '.join(RUNNERS)}. "
        "See --help.\n"
    )
    return EXIT_USAGE
