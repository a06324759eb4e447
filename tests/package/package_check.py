"""The Debian package, installed, run and purged in a minimal bookworm root (docs/install.md#checks).

- `apt-get install ./event-gateway_*.deb` on a root that has nothing but bookworm's required
  packages: the package's declared dependencies are enough, and apt finds them all.
- The files are where the unit and the binary expect them; `systemd-analyze verify` passes the unit.
- The service starts as its unit says, without systemd (not PID 1 here): the unit's ExecStart, with its
  Environment= and EnvironmentFile=, as a user that exists nowhere (DynamicUser=), with umask UMask=,
  writing only its StateDirectory= (made as systemd makes it, /var/lib/private/<name>, 0700) and
  told where systemd listens (NOTIFY_SOCKET): it says READY=1, answers /v1/status, /readyz and
  /healthz on loopback only, keeps a function across a restart, says STOPPING=1 on SIGTERM and exits 0.
- `apt-get purge --autoremove` leaves the root as it was: no file, directory, user or group more.
"""

import os
import shlex
import shutil
import socket
import subprocess

import minimal_root as mr

UNIT = "/usr/lib/systemd/system/event-gateway.service"
DYNAMIC_UID = 61184  # the first of the range systemd takes DynamicUser= ids from
NOTIFY_PATH = "/run/event-gateway-check-notify"


def unit_settings(text):
    """The [Service] settings of a unit file: name -> values, in order (Environment= repeats)."""
    settings, section = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service":
            name, value = line.split("=", 1)
            settings.setdefault(name.strip(), []).append(value.strip())
    return settings


def assignments(words):
    """NAME=value words into a dict; systemd's quoting beyond shell words is not needed here."""
    return dict(word.split("=", 1) for word in words)


def environment_file(path):
    if not os.path.exists(path):
        return {}
    lines = [line.strip() for line in open(path)]
    return assignments(word for line in lines if line and not line.startswith("#")
                       for word in shlex.split(line))


class Service:
    """The unit's service, started as systemd would start it, with a notification socket of ours."""

    def __init__(self, root, work):
        self.root, self.work = root, work
        self.settings = unit_settings(open(root + UNIT).read())
        self.state = self.settings["StateDirectory"][0]
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(root + NOTIFY_PATH)
        os.chmod(root + NOTIFY_PATH, 0o777)  # the dynamic user sends to it
        self.notify.settimeout(15)
        self.process = None

    def environment(self):
        env = {"PATH": mr.SERVICE_PATH, "LANG": "C.UTF-8", "HOME": "/",
               "STATE_DIRECTORY": f"/var/lib/{self.state}", "NOTIFY_SOCKET": NOTIFY_PATH}
        for words in self.settings.get("Environment", []):
            env.update(assignments(shlex.split(words)))
        for file in self.settings.get("EnvironmentFile", []):
            env.update(environment_file(self.root + file.lstrip("-")))  # read last: it wins
        return env

    def make_state_directory(self):
        """As systemd does for DynamicUser=: /var/lib/private/<name>, owned by the service's user, and
        /var/lib/<name> a link to it."""
        private = f"{self.root}/var/lib/private"
        os.makedirs(private, mode=0o700, exist_ok=True)
        directory = f"{private}/{self.state}"
        os.makedirs(directory, exist_ok=True)
        os.chown(directory, DYNAMIC_UID, DYNAMIC_UID)
        os.chmod(directory, int(self.settings.get("StateDirectoryMode", ["0755"])[0], 8))
        link = f"{self.root}/var/lib/{self.state}"
        if not os.path.islink(link):
            os.symlink(f"private/{self.state}", link)

    def start(self):
        self.make_state_directory()
        argv = shlex.split(self.settings["ExecStart"][0])
        self.process = mr.start_in_root(self.root, argv, os.path.join(self.work, "service.log"),
                                        user=f"{DYNAMIC_UID}:{DYNAMIC_UID}", env=self.environment(),
                                        umask=self.settings.get("UMask", ["0022"])[0],
                                        private_dirs=[("/var/lib/private", self.state)])
        self.expect_notification("READY=1")

    def expect_notification(self, state):
        try:
            message = self.notify.recv(4096).decode()
        except socket.timeout:
            raise AssertionError(f"no {state} from the service within 15 s:\n{self.log()}")
        assert message.startswith(state + "\n"), message
        mr.log(f"the service told systemd: {message!r}")

    def stop(self):
        timeout = int(self.settings.get("TimeoutStopSec", ["90"])[0])
        status = mr.stop(self.process, timeout)
        self.expect_notification("STOPPING=1")
        assert status == 0, f"exit status {status}:\n{self.log()}"

    def log(self):
        return open(os.path.join(self.work, "service.log")).read()


def check_files(root):
    listed = mr.run_in_root(root, ["dpkg", "-L", "event-gateway"], capture=True).stdout.split()
    for path in ("/usr/bin/event-gateway", "/usr/lib/event-gateway/libeventgateway_etcd.so",
                 "/usr/lib/event-gateway/libeventgateway_plugin.so", UNIT,
                 "/usr/share/doc/event-gateway/README.md", "/usr/share/doc/event-gateway/docs/install.md"):
        assert path in listed, f"the package has no {path}"
    depends = mr.run_in_root(root, ["dpkg-query", "-W", "-f=${Depends}", "event-gateway"],
                             capture=True).stdout
    mr.log(f"Depends: {depends}")
    assert "ExecStart=/usr/bin/event-gateway\n" in open(root + UNIT).read()
    # postinst enabled it, as deb-systemd-helper does without a running systemd: purge must undo it.
    wanted = f"{root}/etc/systemd/system/multi-user.target.wants/event-gateway.service"
    assert os.path.islink(wanted), "the package did not enable its service"


def verify_unit(root, work):
    """systemd-analyze verify and security on the host, which has systemd's own units (the root has
    none): the unit as installed, but for ExecStart, which names the binary in the root."""
    if shutil.which("systemd-analyze") is None:
        mr.log("systemd-analyze is not installed: the unit is not verified")
        return
    unit = os.path.join(work, os.path.basename(UNIT))
    with open(unit, "w") as copy:
        copy.write(open(root + UNIT).read().replace("ExecStart=/usr/bin/", f"ExecStart={root}/usr/bin/"))
    result = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stderr.strip(), f"systemd-analyze verify:\n{result.stderr}"
    # Exposure 0 (locked down) to 10 (unprotected), times ten: 2.0 is "OK" and a little more.
    result = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--threshold=20", unit],
                            capture_output=True, text=True)
    exposure = [line for line in result.stdout.splitlines() if "Overall exposure level" in line]
    assert result.returncode == 0, f"systemd-analyze security: {exposure or result.stderr}"
    mr.log(f"systemd-analyze verify: valid; security: {exposure[0].split(':', 1)[1].strip()}")
    os.unlink(unit)


def run_service(root, work):
    config_port, events_port = mr.free_port(), mr.free_port()
    # The administrator's settings: ports of this check's own (4000 and 4001 may be taken here).
    with open(f"{root}/etc/default/event-gateway", "w") as settings:
        settings.write(f"# written by the package check\nEVENT_GATEWAY_CONFIG_PORT={config_port}\n"
                       f"EVENT_GATEWAY_EVENTS_PORT={events_port}\n")
    config, events = f"http://127.0.0.1:{config_port}", f"http://127.0.0.1:{events_port}"
    service = Service(root, work)
    try:
        service.start()
        status, body = mr.http("GET", config + "/v1/status")
        assert status == 200 and '"embedded' in body, (status, body)
        assert mr.http("GET", config + "/readyz")[0] == 200
        assert mr.http("GET", events + "/healthz")[0] == 200
        for port in (config_port, events_port):
            addresses = mr.listening_addresses(port)
            assert addresses == {"0100007F"}, f"port {port} is listened on at {addresses}, not 127.0.0.1 only"
        assert mr.process_ids(service.process.pid) == (DYNAMIC_UID, DYNAMIC_UID)
        function = {"functionId": "kept", "type": "http", "provider": {"url": "http://127.0.0.1:9/"}}
        status, body = mr.http("POST", config + "/v1/spaces/default/functions", function)
        assert status == 201, (status, body)
        service.stop()
        store = f"{root}/var/lib/private/event-gateway"
        assert os.stat(store).st_uid == DYNAMIC_UID and os.stat(store).st_mode & 0o777 == 0o700
        assert os.stat(f"{store}/config.db").st_mode & 0o077 == 0, oct(os.stat(f"{store}/config.db").st_mode)
        mr.log("started, answered, stopped; the store is the service user's alone")
        service.start()
        assert mr.http("GET", config + "/v1/spaces/default/functions/kept")[0] == 200, "the function was lost"
        service.stop()
        mr.log("restarted with the function it had")
    finally:
        if service.process and service.process.poll() is None:
            service.process.kill()
            service.process.wait()
        service.notify.close()
        os.unlink(root + NOTIFY_PATH)
        os.unlink(f"{root}/etc/default/event-gateway")


def check(root, deb, work):
    before = mr.snapshot(root)
    shutil.copy(deb, f"{root}/tmp/")
    mr.log(f"apt-get install ./{os.path.basename(deb)} in a minimal bookworm root")
    mr.run_in_root(root, ["apt-get", "install", "-y", "-q", "--no-install-recommends",
                          f"/tmp/{os.path.basename(deb)}"],
                   env={"PATH": mr.SERVICE_PATH, "DEBIAN_FRONTEND": "noninteractive"})
    os.unlink(f"{root}/tmp/{os.path.basename(deb)}")
    check_files(root)
    verify_unit(root, work)
    run_service(root, work)
    mr.log("apt-get purge --autoremove event-gateway")
    mr.run_in_root(root, ["apt-get", "purge", "-y", "-q", "--autoremove", "event-gateway"],
                   env={"PATH": mr.SERVICE_PATH, "DEBIAN_FRONTEND": "noninteractive"})
    after = mr.snapshot(root)
    # /var/lib/private is systemd's (made here in its place), not the package's; what was in it is.
    left = sorted(after[0] - before[0] - {"/var/lib/private (dir)"})
    gone = sorted(before[0] - after[0])
    assert not left and not gone, f"purge left {left} and took {gone}"
    assert not os.listdir(f"{root}/var/lib/private"), os.listdir(f"{root}/var/lib/private")
    assert after[1] == before[1], "users or groups changed"
    os.rmdir(f"{root}/var/lib/private")
    mr.log("purged: no file, directory, user or group left")
