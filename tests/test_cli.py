"""The dispatcher and every kind of bad input: one paragraph on stderr, non-zero exit, no traceback."""

import subprocess

import pytest

from sagemaker_pipeline_resource import __version__
from tests.conftest import clean_env

ARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/churn-model"


def run_pyz(pyz, *args, stdin=""):
    return subprocess.run([str(pyz), *args], input=stdin, capture_output=True, text=True, env=clean_env(), check=False)


def test_version_and_help(pyz):
    assert run_pyz(pyz, "--version").stdout.strip() == f"sagemaker-pipeline-resource {__version__}"
    helped = run_pyz(pyz, "--help")
    assert helped.returncode == 0 and "usage:" in helped.stdout and "/opt/resource/check" in helped.stdout


def test_no_step_prints_usage_and_fails(pyz):
    result = run_pyz(pyz)
    assert result.returncode == 2 and "usage:" in result.stderr and result.stdout == ""


def test_unknown_step_name(pyz, tmp_path):
    link = tmp_path / "chekc"
    link.symlink_to(pyz)
    result = subprocess.run([str(link)], capture_output=True, text=True, check=False, env=clean_env())
    assert result.returncode == 2 and "called as 'chekc' with no step" in result.stderr


def test_step_as_first_argument(pyz):
    result = run_pyz(pyz, "check", stdin='{"source": {"pipeline": "churn-model"}}')
    assert result.returncode == 1 and "not a name" in result.stderr


@pytest.mark.parametrize(
    ("stdin", "fragment"),
    [
        ("", "stdin was empty"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"version": null}', "has no 'source'"),
        ('{"source": {"pipeline": "churn-model"}}', "not a name"),
        ('{"source": {"pipeline": "' + ARN + '/execution/abc"}}', "execution ARN"),
        ('{"source": {"pipeline": "' + ARN + '", "statuses": ["Done"]}}', "unknown status 'Done'"),
        ('{"source": {"pipeline": "' + ARN + '", "region": 5}}', "source.region must be a string"),
        ('{"source": {"pipeline": "' + ARN + '", "colour": "red"}}', "unknown key 'colour'"),
        ('{"source": {"pipeline": "' + ARN + '"}, "version": {"execution_arn": "x"}}', "not a valid"),
        ('{"source": {"pipeline": "' + ARN + '"}, "version": {"ref": "x"}}', "version has an unknown key 'ref'"),
        ('{"source": {"pipeline": "' + ARN + '"}, "params": {}}', "unknown top-level keys: 'params'"),
    ],
)
def test_bad_check_input(steps_dir, stdin, fragment):
    result = subprocess.run(
        [str(steps_dir / "check")], input=stdin, capture_output=True, text=True, env=clean_env(), check=False
    )
    assert result.returncode == 1
    assert fragment in result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1  # one paragraph
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_in_without_directory(steps_dir):
    result = subprocess.run(
        [str(steps_dir / "in")], input='{"source": {"pipeline": "' + ARN + '"}, "version": {}}',
        capture_output=True, text=True, env=clean_env(), check=False,
    )  # fmt: skip
    assert result.returncode == 2 and "destination directory" in result.stderr  # a usage error


def test_debug_shows_the_traceback(steps_dir):
    payload = '{"source": {"pipeline": "churn-model", "debug": true}}'
    result = subprocess.run(
        [str(steps_dir / "check")], input=payload, capture_output=True, text=True, env=clean_env(), check=False
    )
    assert result.returncode == 1 and "Traceback" in result.stderr


def test_unreachable_endpoint_names_it(steps_dir):
    payload = (
        '{"source": {"pipeline": "' + ARN + '", "endpoint_url": "http://127.0.0.1:9", "access_key_id": "a",'
        ' "secret_access_key": "b", "max_attempts": 1, "connect_timeout": 1}}'
    )
    result = subprocess.run(
        [str(steps_dir / "check")], input=payload, capture_output=True, text=True, env=clean_env(), check=False
    )
    assert result.returncode == 1 and "http://127.0.0.1:9" in result.stderr and "Traceback" not in result.stderr


def test_no_credentials_says_how_to_set_them(steps_dir):
    payload = '{"source": {"pipeline": "' + ARN + '", "endpoint_url": "http://127.0.0.1:9"}}'
    result = subprocess.run(
        [str(steps_dir / "check")], input=payload, capture_output=True, text=True, env=clean_env(), check=False
    )
    assert result.returncode == 1 and "access_key_id" in result.stderr
