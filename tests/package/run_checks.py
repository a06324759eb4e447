#!/usr/bin/env python3
"""The Debian package and the container image, checked in a throw-away minimal bookworm root
(docs/install.md#checks): package_check.py, then image_check.py on the same root, which the purge
has just proved to be as it was. Run as root, by scripts/test.sh:

    tests/package/run_checks.py build/event-gateway_0.1.0_amd64.deb

The root, its mounts and its processes are gone when it ends, whatever happens.
"""

import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import image_check  # noqa: E402
import minimal_root as mr  # noqa: E402
import package_check  # noqa: E402

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    if len(sys.argv) != 2 or not sys.argv[1].endswith(".deb"):
        sys.exit("usage: run_checks.py <event-gateway_*.deb>")
    if os.geteuid() != 0:
        sys.exit("run_checks.py: needs root (mmdebstrap, chroot, mount namespaces)")
    deb = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="eg-package-check-")
    started = time.monotonic()
    try:
        root = os.path.join(work, "root")
        mr.log("making a minimal bookworm root (mmdebstrap --variant=minbase)")
        mr.make_root(root)
        mr.log(f"root made in {time.monotonic() - started:.0f} s")
        package_check.check(root, deb, work)
        package_dir = os.path.join(work, "package")
        os.makedirs(package_dir)
        shutil.copy(deb, package_dir)
        image_check.check(root, os.path.join(SOURCE, "Dockerfile"), package_dir, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    mr.log(f"package and image checks passed in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
