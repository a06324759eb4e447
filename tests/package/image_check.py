"""The container image's contents, without a container engine (docs/install.md#checks).

The Dockerfile's runtime stage runs as written, instruction by instruction, on a minimal bookworm
root (what debian:bookworm-slim is made from): its COPY takes the package the build stage would
make (the same cmake and cpack, run by CI in its build directory), its RUN lines run chrooted, its
ENV, WORKDIR, USER, VOLUME, HEALTHCHECK and ENTRYPOINT are recorded. Then `docker run event-gateway
-dev` is played: ENTRYPOINT plus -dev, as USER, in WORKDIR, with the image's environment and each
VOLUME bound to a new directory outside the root (with the image directory's owner and mode, as
Docker fills a new volume). Checked: only runtime packages were installed; the gateway runs as the
image's non-root user and answers; the HEALTHCHECK command passes while it serves and fails once it
has stopped; the embedded store lives on the volume and a second container on it finds the data.

Not checked here: that `docker build` itself runs (its build stage, the layers), Docker's port
publishing and networking, and the health check's timing options. An instruction this player does
not know fails the check, so that the Dockerfile cannot drift past it.
"""

import json
import os
import shlex
import shutil
import tempfile

import minimal_root as mr

IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"  # debian images' PATH
BUILD_ONLY = ("build-essential", "cmake", "ninja-build", "gcc", "g++", "protobuf-compiler", "git")


def instructions(dockerfile):
    """(instruction, arguments) of each line of the Dockerfile, continuation lines joined."""
    logical, pending = [], ""
    for line in open(dockerfile):
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    split = [text.split(None, 1) for text in logical]
    return [(words[0].upper(), words[1] if len(words) > 1 else "") for words in split]


def runtime_stage(steps):
    """The instructions of the last stage, which must be FROM debian:bookworm-slim."""
    starts = [i for i, (name, _) in enumerate(steps) if name == "FROM"]
    base = steps[starts[-1]][1].split()
    assert base[0] == "debian:bookworm-slim", f"the runtime stage is FROM {base[0]}, not debian:bookworm-slim"
    return steps[starts[-1] + 1:]


class Image:
    """The runtime stage applied to the root: what `docker build` would record as the image's settings."""

    def __init__(self, root, package_dir):
        self.root, self.package_dir = root, package_dir
        self.env = {"PATH": IMAGE_PATH}
        self.workdir, self.user, self.volumes, self.healthcheck, self.entrypoint = "/", None, [], None, []

    def apply(self, name, arguments):
        getattr(self, f"do_{name.lower()}", self.unknown)(name, arguments)

    def unknown(self, name, arguments):
        raise AssertionError(f"the image check does not know {name} {arguments}: "
                             "teach tests/package/image_check.py")

    def do_copy(self, _, arguments):
        words = shlex.split(arguments)
        assert words[0] == "--from=build" and words[1] == "/package/", \
            f"COPY {arguments}: not the build stage's package"
        target = self.root + words[2]
        os.makedirs(target, exist_ok=True)
        for name in os.listdir(self.package_dir):
            shutil.copy(os.path.join(self.package_dir, name), target)

    def do_run(self, _, command):
        mr.log(f"RUN {command[:100]}...")
        mr.run_in_root(self.root, ["/bin/sh", "-c", command], env=dict(self.env), cwd=self.workdir)

    def do_env(self, _, arguments):
        self.env.update(dict(word.split("=", 1) for word in shlex.split(arguments)))

    def do_workdir(self, _, directory):
        os.makedirs(self.root + directory, exist_ok=True)
        self.workdir = directory

    def do_user(self, _, user):
        self.user = user

    def do_volume(self, _, arguments):
        self.volumes += json.loads(arguments) if arguments.startswith("[") else arguments.split()

    def do_expose(self, _, arguments):
        pass  # ports are the gateway's defaults; `docker run -p` publishes them

    def do_healthcheck(self, _, arguments):
        assert " CMD " in f" {arguments} ", arguments
        self.healthcheck = arguments[4:] if arguments.startswith("CMD ") else arguments.split(" CMD ", 1)[1]

    def do_entrypoint(self, _, arguments):
        self.entrypoint = json.loads(arguments)


class Container:
    """`docker run -e ... event-gateway <arguments>` on the image's root, with fresh volumes."""

    def __init__(self, image, volumes, env, arguments, work):
        self.image, self.volumes, self.env, self.arguments, self.work = image, volumes, env, arguments, work
        self.process = None

    def options(self):
        return {"user": self.image.user, "env": {**self.image.env, **self.env}, "cwd": self.image.workdir,
                "volumes": [(self.volumes[path], path) for path in self.image.volumes]}

    def start(self, config_url):
        self.process = mr.start_in_root(self.image.root, self.image.entrypoint + self.arguments,
                                        os.path.join(self.work, "container.log"), **self.options())

        def exited_or_answers():
            return self.process.poll() is not None or mr.http("GET", config_url + "/v1/status")[0] == 200

        mr.wait_until(exited_or_answers, 15, "GET /v1/status answers 200")
        assert self.process.poll() is None, f"the gateway exited:\n{self.log()}"

    def healthy(self):
        command = self.image.healthcheck
        result = mr.run_in_root(self.image.root, ["/bin/sh", "-c", command], check=False, capture=True,
                                **self.options())
        return result.returncode == 0

    def stop(self):
        status = mr.stop(self.process, 30)
        assert status == 0, f"exit status {status}:\n{self.log()}"

    def log(self):
        return open(os.path.join(self.work, "container.log")).read()


def check_packages(root, base_packages):
    added = sorted(mr.installed_packages(root) - base_packages)
    mr.log(f"the runtime stage installed {len(added)} packages: {' '.join(added)}")
    assert "event-gateway" in added and "curl" in added
    development = [p for p in added if p.endswith("-dev") or p in BUILD_ONLY]
    assert not development, f"the image holds what only a build needs: {development}"


def fresh_volumes(root, volumes, work):
    """A new directory for each VOLUME, owned and moded like the image's directory, as Docker makes a
    new named volume from the image's content."""
    made = {}
    for path in volumes:
        directory = tempfile.mkdtemp(prefix="volume-", dir=work)
        image_dir = os.stat(root + path)
        os.chown(directory, image_dir.st_uid, image_dir.st_gid)
        os.chmod(directory, image_dir.st_mode & 0o7777)
        made[path] = directory
    return made


def check(root, dockerfile, package_dir, work):
    base_packages = mr.installed_packages(root)
    image = Image(root, package_dir)
    for name, arguments in runtime_stage(instructions(dockerfile)):
        image.apply(name, arguments)
    check_packages(root, base_packages)
    assert image.user and image.entrypoint and image.healthcheck and image.volumes == ["/data"]
    uid = int(image.user.split(":")[0])
    users = [line.split(":") for line in open(f"{root}/etc/passwd")]
    assert uid != 0 and any(int(user[2]) == uid for user in users), \
        f"USER {image.user}: root, or no user of the image"

    config_port, events_port = mr.free_port(), mr.free_port()
    # The ports by variable, as `docker run -e` sets them: 4000 and 4001 may be taken on this machine.
    env = {"EVENT_GATEWAY_CONFIG_PORT": str(config_port), "EVENT_GATEWAY_EVENTS_PORT": str(events_port)}
    config = f"http://127.0.0.1:{config_port}"
    volumes = fresh_volumes(root, image.volumes, work)
    containers = [Container(image, volumes, env, ["-dev"], work) for _ in range(2)]
    try:
        first, second = containers
        first.start(config)
        assert mr.process_ids(first.process.pid)[0] == uid, "the gateway does not run as the image's user"
        assert mr.http("GET", f"http://127.0.0.1:{events_port}/healthz")[0] == 200
        assert first.healthy(), f"the HEALTHCHECK fails while the gateway serves:\n{first.log()}"
        function = {"functionId": "on-volume", "type": "http", "provider": {"url": "http://127.0.0.1:9/"}}
        status, body = mr.http("POST", config + "/v1/spaces/default/functions", function)
        assert status == 201, (status, body)
        first.stop()
        assert not first.healthy(), "the HEALTHCHECK passes with no gateway"
        database = os.path.join(volumes["/data"], "config.db")
        assert os.path.exists(database) and os.stat(database).st_uid == uid, os.listdir(volumes["/data"])
        mr.log("ran as the image's user, healthy while serving, the store on the volume")
        second.start(config)
        status, _ = mr.http("GET", config + "/v1/spaces/default/functions/on-volume")
        assert status == 200, "the volume lost the function"
        second.stop()
        mr.log("a second container on the same volume has the function")
    finally:
        for container in containers:
            if container.process and container.process.poll() is None:
                container.process.kill()
                container.process.wait()
