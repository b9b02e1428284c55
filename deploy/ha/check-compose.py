#!/usr/bin/env python3
"""Checks that deploy/ha's files agree with each other, where no Docker engine
can try them: a Compose file's services, addresses, capabilities and restart
policies against the HAProxy configuration its load balancers are built with
(haproxy.cfg, or haproxy-cluster.cfg) and keepalived.conf, and the Dockerfiles
it names. (`docker compose config` checks the Compose schema; this checks the
set-up.) Two topologies: docker-compose.yml, two kvd servers that each hold
their keys ("Server N"); docker-compose-cluster.yml, three kvd nodes of one
Raft cluster ("Node N", --node N, the same --peers, each address its own).

  check-compose.py [COMPOSE_FILE]      exit 0 and one line, or the problems
"""
import re
import sys
from pathlib import Path

import yaml

here = Path(__file__).resolve().parent
compose_path = Path(sys.argv[1]) if len(sys.argv) > 1 else here / "docker-compose.yml"
compose = yaml.safe_load(compose_path.read_text())
services = compose.get("services", {})
haproxy_name = services.get("haproxy1", {}).get("build", {}).get("args", {}).get("config",
                                                                                 "haproxy.cfg")
haproxy_cfg = (here / haproxy_name).read_text()
keepalived_conf = (here / "keepalived.conf").read_text()
problems = []


def expect(ok, message):
    if not ok:
        problems.append(message)


subnet = compose["networks"]["ha"]["ipam"]["config"][0]["subnet"]


def address(name):
    return services[name]["networks"]["ha"]["ipv4_address"]


def flag(command, name):
    return command[command.index(name) + 1] if name in command else None


kvds = sorted(name for name in services if name.startswith("kvd"))
cluster = any("--node" in services[name].get("command", []) for name in kvds)
count = 3 if cluster else 2
expect(set(services) == {f"kvd{n}" for n in range(1, count + 1)} |
       {"haproxy1", "haproxy2", "keepalived1", "keepalived2"}, f"services: {sorted(services)}")
expect(haproxy_name == ("haproxy-cluster.cfg" if cluster else "haproxy.cfg"),
       f"the load balancers are built with {haproxy_name}")
for name, svc in services.items():
    expect(svc.get("restart") == "unless-stopped", f"{name}: restart is not unless-stopped")
    build = svc.get("build", {})
    dockerfile = (compose_path.parent / build.get("context", ".") / build.get("dockerfile", "Dockerfile"))
    expect(dockerfile.is_file(), f"{name}: no Dockerfile at {dockerfile}")

# The kvd servers are HAProxy's servers, on the port they serve HTTP on: in
# every backend (the cluster's has two, and the leader's backups).
backends = re.split(r"^backend\s+", haproxy_cfg, flags=re.M)[1:]
expect(backends, f"{haproxy_name}: no backend")
volumes = set()
for n in range(1, count + 1):
    name = f"kvd{n}"
    command = services[name].get("command", [])
    port = (flag(command, "--http") or ":?").rsplit(":", 1)[1]
    label = f"Node {n}" if cluster else f"Server {n}"
    expect(flag(command, "--name") == label, f"{name}: --name is not '{label}'")
    for backend in backends:
        servers = {a for a in re.findall(r"^\s*server\s+\S+\s+(\S+)", backend, re.M)}
        expect(f"{address(name)}:{port}" in servers,
               f"{name} ({address(name)}:{port}) is not a server of {haproxy_name}'s backend "
               f"{backend.split()[0]}")
    # Its data (and the Raft log beside it) must outlive the container.
    mounts = [v for v in services[name].get("volumes", []) if v.endswith(":/var/lib/kvd")]
    expect(len(mounts) == 1, f"{name}: no volume at /var/lib/kvd")
    volumes.update(m.split(":")[0] for m in mounts)
    if cluster:
        # Every node lists every voter, the same, and itself at its own address.
        expect(flag(command, "--node") == str(n), f"{name}: not --node {n}")
        peers = dict(p.split("=", 1) for p in (flag(command, "--peers") or "").split(",") if "=" in p)
        expect(sorted(peers) == [str(i) for i in range(1, count + 1)],
               f"{name}: --peers lists nodes {sorted(peers)}")
        expect(peers.get(str(n), "").rsplit(":", 1)[0] == address(name),
               f"{name}: --peers gives node {n} {peers.get(str(n))}, not its address {address(name)}")
        expect(flag(command, "--peers") == flag(services["kvd1"]["command"], "--peers"),
               f"{name}: --peers differs from kvd1's")
expect(len(volumes) == count, f"the kvd servers share volumes: {sorted(volumes)}")
if cluster:
    expect("GET /health?role=leader" in haproxy_cfg, f"{haproxy_name}: no check for the leader")

# One VIP: keepalived's, inside the subnet and outside Docker's dynamic range,
# and the address HAProxy binds.
vips = re.findall(r"^\s*(\d+\.\d+\.\d+\.\d+)/\d+\s+dev\s", keepalived_conf, re.M)
expect(len(vips) == 1, f"keepalived.conf: {len(vips)} VIPs, want 1")
vip = vips[0] if vips else "?"
expect(re.search(rf"^\s*bind\s+{re.escape(vip)}:\d+", haproxy_cfg, re.M) is not None,
       f"{haproxy_name} does not bind the VIP {vip}")
expect(vip.rsplit(".", 1)[0] == subnet.split("/")[0].rsplit(".", 1)[0], f"VIP {vip} outside {subnet}")
expect(int(vip.rsplit(".", 1)[1]) < 128, f"VIP {vip} inside Docker's dynamic range (.128 and up)")

# Each LB: keepalived owns the namespace, with what VRRP and the VIP bind need;
# its HAProxy shares it; its config id selects its @lbN lines.
monitor = re.search(r"bind\s+127\.0\.0\.1:(\d+)\s*\n\s*monitor-uri\s+(\S+)", haproxy_cfg)
expect(monitor is not None, f"{haproxy_name}: no monitor-uri on a loopback bind")
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
print(f"deploy/ha: {compose_path.name}'s services, addresses ({subnet}, VIP {vip}), "
      f"capabilities and restart policies agree with {haproxy_name} and keepalived.conf")
