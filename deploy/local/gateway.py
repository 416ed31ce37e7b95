"""The gateway on this machine: Debian's nginx with deploy/gateway/otop.conf.template (the file compose and
Kubernetes use), serving web/dist and the local services, Keycloak under /auth/. Plain HTTP on 127.0.0.1
(deploy/gateway/edge-plain.conf), or, given a certificate and key, TLS as compose runs it (edge-tls.conf)."""

import os
import re
import shutil
import signal
import ssl
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from deploy.local.processes import REPO
from deploy.runners import wait_ready

GATEWAY = REPO / "deploy" / "gateway"
TEMPLATE = GATEWAY / "otop.conf.template"
WEB_ROOT = REPO / "web" / "dist"


def render(values: dict[str, str], template: str | None = None) -> str:
    """The template with each ${OTOP_GATEWAY_X} replaced (as nginx's envsubst filter does); nginx's own
    $variables stay. A placeholder without a value is an error, not an empty string."""
    text = TEMPLATE.read_text() if template is None else template

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"the gateway template needs {name}")
        return values[name]

    return re.sub(r"\$\{(OTOP_GATEWAY_[A-Z_]+)\}", value, text)


@dataclass
class LocalGateway:
    state_dir: Path  # its config, pid, temp files; the log goes to log_path
    port: int
    upstreams: dict[str, str]  # registry, scheduling, sales, monitoring, keycloak -> http://127.0.0.1:port
    log_path: Path
    root: Path = WEB_ROOT
    tls: tuple[Path, Path] | None = None  # certificate (chain) and key files: TLS with HSTS, as compose does
    public_cache: bool = True  # the public pages' short cache (/p/); off to measure the service itself
    access_log: Path | None = None  # requests logged here (the format otop, as the image logs); else none
    process: subprocess.Popen | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def configure(self) -> Path:
        if not (self.root / "index.html").exists():
            raise FileNotFoundError(
                f"{self.root}/index.html is missing: build the app (bash scripts/setup.sh)"
            )
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if self.tls:  # edge-tls.conf reads tls/tls.crt and tls/tls.key below nginx's prefix, the state dir
            (self.state_dir / "tls").mkdir(exist_ok=True)
            for source, name in zip(self.tls, ("tls.crt", "tls.key"), strict=True):
                shutil.copyfile(source, self.state_dir / "tls" / name)
        values = {
            "OTOP_GATEWAY_LISTEN": f"127.0.0.1:{self.port}" + (" ssl" if self.tls else ""),
            "OTOP_GATEWAY_EDGE": str(GATEWAY / ("edge-tls.conf" if self.tls else "edge-plain.conf")),
            "OTOP_GATEWAY_ROOT": str(self.root),
            "OTOP_GATEWAY_RESOLVER": "127.0.0.1",  # upstreams are addresses: nothing to resolve
            "OTOP_GATEWAY_CACHE_DIR": str(self.state_dir / "cache"),
            "OTOP_GATEWAY_PUBLIC_CACHE": "public" if self.public_cache else "off",
            **{f"OTOP_GATEWAY_{name.upper()}": url for name, url in self.upstreams.items()},
        }
        (self.state_dir / "otop.conf").write_text(render(values))
        temp = self.state_dir / "tmp"
        temp.mkdir(exist_ok=True)
        user = "user nobody nogroup;\n" if os.getuid() == 0 else ""  # root's workers drop to nobody
        main = (
            f"{user}worker_processes 1;\npid {self.state_dir / 'nginx.pid'};\nerror_log {self.log_path} "
            "warn;\n"
            "events { worker_connections 512; }\n"
            "http {\n  include /etc/nginx/mime.types;\n  default_type application/octet-stream;\n"
            "  sendfile on;\n  gzip on;\n"
            "  gzip_types application/javascript text/css application/json image/svg+xml;\n"
            + "".join(
                f"  {kind}_temp_path {temp / kind};\n"
                for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            )
            + f"  include {self.state_dir / 'otop.conf'};\n"
            + (f"  access_log {self.access_log} otop;\n}}\n" if self.access_log else "  access_log off;\n}\n")
        )
        config = self.state_dir / "nginx.conf"
        config.write_text(main)
        return config

    def start(self) -> None:
        config = self.configure()
        nginx = "/usr/sbin/nginx"
        check = subprocess.run(
            [nginx, "-t", "-q", "-p", str(self.state_dir), "-c", str(config)], capture_output=True, text=True
        )
        if check.returncode:
            raise RuntimeError(f"the gateway's nginx config is refused:\n{check.stderr}")
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [nginx, "-p", str(self.state_dir), "-c", str(config), "-g", "daemon off;"],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def started(self) -> subprocess.Popen[bytes]:
        """The process, once start() ran."""
        if self.process is None:
            raise RuntimeError("nginx was not started")
        return self.process

    def wait_ready(self, timeout: float = 20.0) -> None:
        wait_ready(
            f"{self.url}/",
            name="nginx",
            timeout=timeout,
            process=self.started,
            log=self.log_path,
            interval=0.1,
            context=ssl._create_unverified_context(),  # whether it answers: the certificate may be a test's
        )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGQUIT)  # graceful: finish the requests under way
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
