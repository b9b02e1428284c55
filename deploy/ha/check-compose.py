#!/usr/bin/env python3
"""Checks that deploy/ha's files agree with each other, where no Docker engine
can try them: docker-compose.yml's services, addresses, capabilities and restart
policies against haproxy.cfg and keepalived.conf, and the Dockerfiles it names.
(`docker compose config` checks the Compose schema; this checks the set-up.)

  check-compose.py [docker-compose.yml]      exit 0 and one line, or the problems
"""
import re
import sys
from pathlib import Path

import yaml

here = Path(__file__).resolve().parent
compose_path = Path(sys.argv[1]) if len(sys.argv) > 1 else here / "docker-compose.yml"
compose = yaml.safe_load(compose_path.read_text())
haproxy_cfg = (here / "haproxy.cfg").read_text()
keepalived_conf = (here / "keepalived.conf").read_text()
problems = []


def expect(ok, message):
    if not ok:
        problems.append(message)


services = compose.get("services", {})
subnet = compose["networks"]["ha"]["ipam"]["config"][0]["subnet"]


def address(name):
    return services[name]["networks"]["ha"]["ipv4_address"]


expect(set(services) == {"kvd1", "kvd2", "haproxy1", "haproxy2", "keepalived1", "keepalived2"},
       f"services: {sorted(services)}")
for name, svc in services.items():
    expect(svc.get("restart") == "unless-stopped", f"{name}: restart is not unless-stopped")
    build = svc.get("build", {})
    dockerfile = (compose_path.parent / build.get("context", ".") / build.get("dockerfile", "Dockerfile"))
    expect(dockerfile.is_file(), f"{name}: no Dockerfile at {dockerfile}")

# The kvd servers are HAProxy's servers, on the port they serve HTTP on.
haproxy_servers = re.findall(r"^\s*server\s+(\S+)\s+(\S+)", haproxy_cfg, re.M)
for n in (1, 2):
    command = services[f"kvd{n}"]["command"]
    port = command[command.index("--http") + 1].rsplit(":", 1)[1]
    expect(command[command.index("--name") + 1] == f"Server {n}", f"kvd{n}: --name is not 'Server {n}'")
    expect(f"{address(f'kvd{n}')}:{port}" in {a for _, a in haproxy_servers},
           f"kvd{n} ({address(f'kvd{n}')}:{port}) is not a server in haproxy.cfg")

# One VIP: keepalived's, inside the subnet and outside Docker's dynamic range,
# and the address HAProxy binds.
vips = re.findall(r"^\s*(\d+\.\d+\.\d+\.\d+)/\d+\s+dev\s", keepalived_conf, re.M)
expect(len(vips) == 1, f"keepalived.conf: {len(vips)} VIPs, want 1")
vip = vips[0] if vips else "?"
expect(re.search(rf"^\s*bind\s+{re.escape(vip)}:\d+", haproxy_cfg, re.M) is not None,
       f"haproxy.cfg does not bind the VIP {vip}")
expect(vip.rsplit(".", 1)[0] == subnet.split("/")[0].rsplit(".", 1)[0], f"VIP {vip} outside {subnet}")
expect(int(vip.rsplit(".", 1)[1]) < 128, f"VIP {vip} inside Docker's dynamic range (.128 and up)")

# Each LB: keepalived owns the namespace, with what VRRP and the VIP bind need;
# its HAProxy shares it; its config id selects its @lbN lines.
monitor = re.search(r"bind\s+127\.0\.0\.1:(\d+)\s*\n\s*monitor-uri\s+(\S+)", haproxy_cfg)
expect(monitor is not None, "haproxy.cfg: no monitor-uri on a loopback bind")
if monitor:
    probe = f"http://127.0.0.1:{monitor.group(1)}{monitor.group(2)}"
    expect(probe in keepalived_conf, f"keepalived.conf's vrrp_script does not probe {probe}")
for n in (1, 2):
    ka, hp = services[f"keepalived{n}"], services[f"haproxy{n}"]
    expect(set(ka.get("cap_add", [])) >= {"NET_ADMIN", "NET_BROADCAST", "NET_RAW"},
           f"keepalived{n}: cap_add lacks NET_ADMIN, NET_BROADCAST or NET_RAW")
    expect(str(ka.get("sysctls", {}).get("net.ipv4.ip_nonlocal_bind")) == "1",
           f"keepalived{n}: no net.ipv4.ip_nonlocal_bind=1")
    expect(ka.get("command") == ["--config-id", f"lb{n}"], f"keepalived{n}: not --config-id lb{n}")
    expect(f"@lb{n} priority" in keepalived_conf, f"keepalived.conf has no @lb{n} lines")
    expect(hp.get("network_mode") == f"service:keepalived{n}",
           f"haproxy{n} does not share keepalived{n}'s network namespace")

if problems:
    sys.exit("deploy/ha does not hold together:\n  " + "\n  ".join(problems))
print(f"deploy/ha: compose services, addresses ({subnet}, VIP {vip}), capabilities and "
      "restart policies agree with haproxy.cfg and keepalived.conf")
