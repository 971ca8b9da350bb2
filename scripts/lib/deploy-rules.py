#!/usr/bin/env python3
"""What scripts/check-deploy asks of deploy/ beyond each tool's own validation: that the
artifacts agree with Ward itself (its metric names, subcommands, shutdown timeout and upload
limit, read from Sources/) and keep the hardening they promise.

    deploy-rules.py <check> <repository root> [<file>]

Checks: dockerfile, compose, kubernetes, nginx, systemd, metrics, grafana, grafana-rules.
Exit status 1 with one line per problem on standard error; nothing on success.
"""
import json
import re
import sys
from pathlib import Path

import yaml

root = Path(sys.argv[2])
problems: list[str] = []


def fail(message: str) -> None:
    problems.append(message)


def sources() -> str:
    return "\n".join(p.read_text() for p in sorted((root / "Sources").rglob("*.swift")) if "WardTestSupport" not in p.parts)


def setting_default(key: str) -> str:
    """The default of a Setting as declared in Sources/WardCore/Configuration/Setting.swift."""
    text = (root / "Sources/WardCore/Configuration/Setting.swift").read_text()
    match = re.search(r'Setting\(\s*"' + re.escape(key) + r'"\s*,\s*default:\s*"([^"]*)"', text)
    if not match:
        sys.exit(f"deploy-rules: no default for setting {key} in Setting.swift")
    return match.group(1)


def shutdown_timeout() -> int:
    return int(setting_default("ward.shutdown.timeout"))


def backup_directory(where: str, url: str | None, data_directory: str) -> str | None:
    """WARD_BACKUP_URL's directory, after checking what `ward check --deploy` checks: set, and
    not under the data directory (a lost disk would take the backups with it)."""
    if not url or not url.startswith("file:///"):
        fail(f"{where}: WARD_BACKUP_URL is not a file:/// directory (unset, backups stay under the data directory)")
        return None
    path = url[len("file://"):].rstrip("/")
    if (path + "/").startswith(data_directory.rstrip("/") + "/"):
        fail(f"{where}: WARD_BACKUP_URL {url} lies under the data directory {data_directory}")
    return path


def subcommands() -> set[str]:
    text = "\n".join(p.read_text() for p in (root / "Sources/ward").glob("*.swift"))
    return set(re.findall(r'commandName:\s*"([a-z-]+)"', text))


def seconds(value) -> float:
    """A duration as compose and systemd write it: 35, "35s", "1m30s", "500ms"."""
    if isinstance(value, (int, float)):
        return float(value)
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|us|s|m|h)?", str(value)):
        total += float(number) * {"ms": 0.001, "us": 1e-6, "s": 1, "m": 60, "h": 3600, "": 1}[unit]
    return total


# --- Dockerfile -------------------------------------------------------------------------------

def check_dockerfile() -> None:
    path = root / "deploy/Dockerfile"
    lines, current = [], ""
    for raw in path.read_text().splitlines():
        if raw.lstrip().startswith("#") and not current:
            continue
        current += raw.rstrip("\\").strip() + " "
        if not raw.rstrip().endswith("\\"):
            if current.strip():
                lines.append(current.strip())
            current = ""
    stages = [i for i, line in enumerate(lines) if line.upper().startswith("FROM ")]
    if len(stages) < 2:
        fail("Dockerfile: not multi-stage (one FROM)")
        return
    build, final = lines[stages[0]:stages[-1]], lines[stages[-1]:]
    if not any("swift build" in l and "-c release" in l and "--product ward" in l for l in build):
        fail("Dockerfile: the builder does not run `swift build -c release --product ward`")
    if not lines[stages[0]].split()[1].startswith("swift:"):
        fail("Dockerfile: the builder is not an official swift image")
    if "bookworm-slim" not in final[0]:
        fail("Dockerfile: the runtime is not debian:bookworm-slim")
    users = [l.split()[1] for l in final if l.upper().startswith("USER ")]
    if not users or users[-1].split(":")[0] in ("0", "root") or not users[-1].split(":")[0].isdigit():
        fail("Dockerfile: the runtime must end with a numeric non-root USER (Kubernetes' runAsNonRoot checks the id)")
    health = [l for l in final if l.upper().startswith("HEALTHCHECK ")]
    if not health or "/health/ready" not in health[-1]:
        fail("Dockerfile: no HEALTHCHECK against /health/ready")
    if not any(l.upper() == "STOPSIGNAL SIGTERM" for l in final):
        fail("Dockerfile: STOPSIGNAL SIGTERM missing")
    if not any(l.upper().startswith("EXPOSE ") for l in final):
        fail("Dockerfile: EXPOSE missing")
    cmd = [l for l in final if l.upper().startswith("CMD ")]
    if not cmd or json.loads(cmd[-1][4:])[0] not in subcommands():
        fail("Dockerfile: CMD does not name a ward subcommand")
    ignore = (root / ".dockerignore").read_text().split()
    if ".build" not in ignore:
        fail(".dockerignore: .build is not excluded")


# --- compose ----------------------------------------------------------------------------------

def check_compose() -> None:
    compose = yaml.safe_load((root / "deploy/compose.yaml").read_text())
    services = compose.get("services", {})
    for name in ("ward", "postgres", "nginx"):
        if name not in services:
            fail(f"compose: no {name} service")
    if problems:
        return
    ward, postgres = services["ward"], services["postgres"]
    if not str(postgres.get("image", "")).startswith("postgres:15"):
        fail("compose: postgres is not postgres:15")
    if ward.get("read_only") is not True:
        fail("compose: ward is not read_only")
    if not any(str(t).split(":")[0] == "/tmp" for t in ward.get("tmpfs", [])):
        fail("compose: ward has no tmpfs for /tmp")
    if seconds(ward.get("stop_grace_period", "10s")) <= shutdown_timeout():
        fail(f"compose: ward's stop_grace_period must exceed WARD_SHUTDOWN_TIMEOUT ({shutdown_timeout()} s)")
    env = ward.get("environment", {})
    for variable in ("WARD_SECRET_KEY", "DATABASE_URL"):
        if variable in env:
            fail(f"compose: {variable} in the environment; give {variable}_FILE a secret")
        elif f"{variable}_FILE" not in env:
            fail(f"compose: {variable}_FILE is not set")
    declared = compose.get("secrets", {})
    for service in services.values():
        for secret in service.get("secrets", []):
            name = secret if isinstance(secret, str) else secret.get("source")
            if name not in declared or "file" not in declared[name]:
                fail(f"compose: secret {name} is not declared as a file")
    backups = backup_directory("compose", env.get("WARD_BACKUP_URL"), env.get("WARD_DATA_DIR", "/var/lib/ward"))
    targets = {str(v).split(":")[1] for v in ward.get("volumes", []) if isinstance(v, str) and ":" in v}
    if backups and backups not in targets:
        fail(f"compose: nothing mounted at the backup directory {backups} (the root file system is read-only)")
    if "healthcheck" not in postgres:
        fail("compose: postgres has no healthcheck")
    mounts = " ".join(str(v) for v in services["nginx"].get("volumes", []))
    if "nginx/ward.conf" not in mounts:
        fail("compose: nginx does not mount deploy/nginx/ward.conf")


# --- Kubernetes -------------------------------------------------------------------------------

def check_kubernetes() -> None:
    documents = []
    for path in sorted((root / "deploy/kubernetes").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document is None:
                continue
            where = f"{path.name}: {document.get('kind', '?')}/{document.get('metadata', {}).get('name', '?')}"
            for field in ("apiVersion", "kind"):
                if not document.get(field):
                    fail(f"{where}: no {field}")
            if not document.get("metadata", {}).get("name"):
                fail(f"{where}: no metadata.name")
            documents.append((where, document))
    kinds = {d["kind"]: (w, d) for w, d in documents}
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Job", "ConfigMap", "Secret"):
        if kind not in kinds:
            fail(f"kubernetes: no {kind}")
    if problems:
        return
    known = subcommands()
    for where, document in documents:
        if document["kind"] not in ("Deployment", "Job"):
            continue
        pod = document["spec"]["template"]["spec"]
        pod_security = pod.get("securityContext", {})
        if pod_security.get("runAsNonRoot") is not True:
            fail(f"{where}: pod securityContext.runAsNonRoot is not true")
        for container in pod["containers"]:
            security = container.get("securityContext", {})
            if security.get("readOnlyRootFilesystem") is not True:
                fail(f"{where}: {container['name']}: readOnlyRootFilesystem is not true")
            if security.get("allowPrivilegeEscalation") is not False:
                fail(f"{where}: {container['name']}: allowPrivilegeEscalation is not false")
            if security.get("capabilities", {}).get("drop") != ["ALL"]:
                fail(f"{where}: {container['name']}: capabilities do not drop ALL")
            resources = container.get("resources", {})
            if not resources.get("requests") or not resources.get("limits", {}).get("memory"):
                fail(f"{where}: {container['name']}: resources need requests and a memory limit")
            args = container.get("args") or container.get("command") or []
            if not args or args[0] not in known:
                fail(f"{where}: {container['name']}: args {args} do not start with a ward subcommand ({', '.join(sorted(known))})")
            env = {e["name"] for e in container.get("env", [])}
            if "WARD_SECRET_KEY" in env or "DATABASE_URL" in env:
                fail(f"{where}: {container['name']}: secrets belong in *_FILE variables, not the environment")
            mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
            for path in ("/var/lib/ward", "/tmp"):
                if path not in mounts:
                    fail(f"{where}: {container['name']}: nothing mounted at {path} (the root file system is read-only)")

    deployment = kinds["Deployment"][1]
    where = kinds["Deployment"][0]
    template = deployment["spec"]["template"]
    container = template["spec"]["containers"][0]
    if container.get("args", [None])[0] != "serve":
        fail(f"{where}: the container does not run `ward serve`")
    for probe, path in (("livenessProbe", "/health/live"), ("readinessProbe", "/health/ready")):
        if container.get(probe, {}).get("httpGet", {}).get("path") != path:
            fail(f"{where}: {probe} does not probe {path}")
    pre_stop = container.get("lifecycle", {}).get("preStop", {})
    pause = int(pre_stop["exec"]["command"][-1]) if "exec" in pre_stop else pre_stop.get("sleep", {}).get("seconds", 0)
    grace = template["spec"].get("terminationGracePeriodSeconds", 30)
    if grace <= pause + shutdown_timeout():
        fail(f"{where}: terminationGracePeriodSeconds {grace} must exceed preStop {pause} s + WARD_SHUTDOWN_TIMEOUT {shutdown_timeout()} s")
    pod_labels = template["metadata"]["labels"]

    def selects(selector: dict) -> bool:
        return bool(selector) and all(pod_labels.get(k) == v for k, v in selector.items())

    if not selects(deployment["spec"]["selector"]["matchLabels"]):
        fail(f"{where}: selector does not match its pod labels")
    service = kinds["Service"]
    if not selects(service[1]["spec"]["selector"]):
        fail(f"{service[0]}: selector does not match the Deployment's pods")
    ports = {p["name"] for p in container.get("ports", [])}
    for port in service[1]["spec"]["ports"]:
        if port["targetPort"] not in ports and port["targetPort"] not in {p["containerPort"] for p in container["ports"]}:
            fail(f"{service[0]}: targetPort {port['targetPort']} is no port of the container")
    budget = kinds["PodDisruptionBudget"]
    if budget[1]["apiVersion"] != "policy/v1" or not selects(budget[1]["spec"]["selector"]["matchLabels"]):
        fail(f"{budget[0]}: must be policy/v1 and select the Deployment's pods")
    hpa = kinds["HorizontalPodAutoscaler"]
    target = hpa[1]["spec"]["scaleTargetRef"]
    if hpa[1]["apiVersion"] != "autoscaling/v2" or target.get("kind") != "Deployment" or target.get("name") != deployment["metadata"]["name"]:
        fail(f"{hpa[0]}: must be autoscaling/v2 and scale the Deployment")
    cpu = [m for m in hpa[1]["spec"].get("metrics", []) if m.get("resource", {}).get("name") == "cpu"]
    if not cpu or cpu[0]["resource"]["target"].get("averageUtilization") != 70:
        fail(f"{hpa[0]}: no CPU target of 70%")
    settings = kinds["ConfigMap"][1].get("data", {})
    backups = backup_directory(kinds["ConfigMap"][0], settings.get("WARD_BACKUP_URL"), settings.get("WARD_DATA_DIR", "/var/lib/ward"))
    if backups:
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        volumes = {v["name"]: v for v in template["spec"].get("volumes", [])}
        claim = volumes.get(mounts.get(backups, ""), {}).get("persistentVolumeClaim", {}).get("claimName")
        claims = {d["metadata"]["name"]: d for _, d in documents if d["kind"] == "PersistentVolumeClaim"}
        if claim not in claims:
            fail(f"{where}: the backup directory {backups} is not a PersistentVolumeClaim of these manifests")
        elif "ReadWriteMany" not in claims[claim]["spec"].get("accessModes", []):
            fail(f"{where}: claim {claim} is not ReadWriteMany, but every replica mounts it")
    if "NetworkPolicy" in kinds and not selects(kinds["NetworkPolicy"][1]["spec"]["podSelector"].get("matchLabels", {})):
        fail(f"{kinds['NetworkPolicy'][0]}: podSelector does not select the Deployment's pods")
    job = kinds["Job"]
    if job[1]["spec"]["template"]["spec"]["containers"][0].get("args", [None])[0] != "migrate":
        fail(f"{job[0]}: does not run `ward migrate`")
    secret = kinds["Secret"]
    for key, value in (secret[1].get("stringData") or {}).items():
        if "REPLACE" not in str(value):
            fail(f"{secret[0]}: {key} is not a placeholder; real secrets do not belong in the repository")
    if secret[1].get("data"):
        fail(f"{secret[0]}: base64 data in a template; use placeholder stringData")


# --- nginx and systemd ------------------------------------------------------------------------

def check_nginx() -> None:
    site = (root / "deploy/nginx/ward.conf").read_text()
    site = "\n".join(line.split("#", 1)[0] for line in site.splitlines())
    limit = max(int(setting_default("ward.documents.uploadLimit")), int(setting_default("ward.body.limit")))
    match = re.search(r"client_max_body_size\s+(\d+)([kKmMgG]?)\s*;", site)
    if not match:
        fail("nginx: no client_max_body_size")
    else:
        size = int(match.group(1)) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match.group(2).lower()]
        if size != limit:
            fail(f"nginx: client_max_body_size is {size} bytes; Ward's largest body is {limit} (WARD_DOCUMENTS_UPLOAD_LIMIT)")
    for header in ("Host", "X-Forwarded-For", "X-Forwarded-Proto"):
        if not re.search(r"proxy_set_header\s+" + header + r"\s", site):
            fail(f"nginx: {header} is not passed to Ward")
    for directive in ("proxy_next_upstream", "proxy_read_timeout", "proxy_connect_timeout", "ssl_certificate", "ssl_certificate_key"):
        if not re.search(r"\b" + directive + r"\s", site):
            fail(f"nginx: no {directive}")
    if not re.search(r"listen\s+[^;]*443[^;]*\bhttp2\b", site):
        fail("nginx: HTTPS is not served over HTTP/2")
    if not re.search(r"return\s+30[178]\s+https://", site):
        fail("nginx: plain HTTP is not redirected to HTTPS")
    if "non_idempotent" in site:
        fail("nginx: proxy_next_upstream must not retry non-idempotent requests")
    upstream = (root / "deploy/nginx/ward-upstream.conf").read_text()
    if len(re.findall(r"^\s*server\s", upstream, re.M)) < 2 or "keepalive" not in upstream:
        fail("nginx: the upstream needs several servers and keepalive")


def check_systemd() -> None:
    unit = (root / "deploy/systemd/ward.service").read_text()
    entries: dict[str, list[str]] = {}
    for line in unit.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";")):
            key, value = line.split("=", 1)
            entries.setdefault(key.strip(), []).append(value.strip())
    stop = seconds(entries.get("TimeoutStopSec", ["90s"])[-1])
    if stop <= shutdown_timeout():
        fail(f"systemd: TimeoutStopSec {stop:g} s must exceed WARD_SHUTDOWN_TIMEOUT ({shutdown_timeout()} s)")
    exec_start = entries.get("ExecStart", [""])[-1].split()
    if len(exec_start) < 2 or exec_start[1] not in subcommands():
        fail("systemd: ExecStart does not run a ward subcommand")
    for key, value in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("PrivateTmp", "yes"), ("Restart", "on-failure")):
        if entries.get(key, [""])[-1] != value:
            fail(f"systemd: {key}={value} missing")
    if entries.get("DynamicUser", ["no"])[-1] != "yes" and not entries.get("User"):
        fail("systemd: runs as root (no DynamicUser=yes or User=)")
    if "ward" not in entries.get("StateDirectory", [""])[-1].split():
        fail("systemd: no StateDirectory=ward")
    if not entries.get("EnvironmentFile"):
        fail("systemd: no EnvironmentFile")
    environment = dict(e.split("=", 1) for line in entries.get("Environment", []) for e in line.split() if "=" in e)
    data = environment.get("WARD_DATA_DIR", "").replace("%S", "/var/lib")
    backups = backup_directory("systemd", environment.get("WARD_BACKUP_URL"), data or "/var/lib/ward")
    writable = " ".join(entries.get("ReadWritePaths", [])).split()
    if backups and backups not in writable and "-" + backups not in writable:
        fail(f"systemd: the backup directory {backups} is not in ReadWritePaths (ProtectSystem=strict makes it read-only)")


# --- metrics ----------------------------------------------------------------------------------

# Series no Ward node exports but Prometheus itself does.
PROMETHEUS_SERIES = {"up"}
PROMQL_WORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
                "bool", "offset", "inf", "nan", "atan2"}


def exported_metrics() -> set[str]:
    """Every series name Ward declares (`MetricNameDescriptor(metricName:unitName:)` and the
    process gauges), a histogram's as its _bucket, _sum and _count series."""
    text = sources()
    names = set()
    for match in re.finditer(r'metricName:\s*"([a-z_:][a-z0-9_:]*)"\s*,\s*unitName:\s*"([a-z]*)"', text):
        name = f"{match.group(1)}_{match.group(2)}" if match.group(2) else match.group(1)
        before = text[max(0, match.start() - 200):match.start()]
        # A histogram's descriptor is written inline in make…Histogram(descriptor: …), or is a
        # static property that make…Histogram names.
        holder = re.search(r"static var (\w+): MetricNameDescriptor \{\s*MetricNameDescriptor\(\s*$", before)
        histogram = re.search(r"Histogram\(\s*descriptor:\s*MetricNameDescriptor\(\s*$", before) or (
            holder and re.search(r"Histogram\(\s*descriptor:\s*(Self\.)?" + holder.group(1) + r"\b", text))
        names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"} if histogram else {name}
    for name, unit in re.findall(r'gauge\(\s*"([a-z_:][a-z0-9_:]*)"\s*,\s*"([a-z]*)"', text):
        names.add(f"{name}_{unit}" if unit else name)
    for expected in ("http_requests_total", "http_request_duration_seconds_bucket", "data_directory_free_bytes", "process_resident_memory_bytes"):
        if expected not in names:
            sys.exit(f"deploy-rules: could not read Ward's metric declarations from Sources/ ({expected} not found; did their form change?)")
    return names


def series_in(expr: str) -> set[str]:
    """The series names a PromQL expression selects."""
    text = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\$\{?\w+\}?", " ", text)
    text = re.sub(r"(?<![\w.])\d+(\.\d+)?([eE][+-]?\d+)?(ms|s|m|h|d|w|y)?\b", " ", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        if text[match.end():].lstrip().startswith("(") or match.group(0).lower() in PROMQL_WORDS:
            continue
        names.add(match.group(0))
    return names


def check_metric_names(label: str, expressions: list[tuple[str, str]]) -> None:
    known = exported_metrics() | PROMETHEUS_SERIES
    for where, expr in expressions:
        names = series_in(expr)
        if not names:
            fail(f"{label}: {where}: selects no series: {expr}")
        for name in sorted(names - known):
            fail(f"{label}: {where}: {name} is not a metric Ward exports")


def alert_expressions() -> list[tuple[str, str]]:
    rules = yaml.safe_load((root / "deploy/prometheus/ward-alerts.yml").read_text())
    return [(rule.get("alert") or rule.get("record"), rule["expr"]) for group in rules["groups"] for rule in group["rules"]]


def dashboard_expressions() -> list[tuple[str, str]]:
    dashboard = json.loads((root / "deploy/grafana/ward-dashboard.json").read_text())
    found = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            found.append((f"panel {panel['title']!r}", target.get("expr", "")))
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        query = query.get("query", "") if isinstance(query, dict) else query or ""
        match = re.match(r"label_values\((.*),\s*\w+\)\s*$", query)
        if match:
            found.append((f"variable {variable['name']}", match.group(1)))
    return found


def check_metrics() -> None:
    check_metric_names("alerts", alert_expressions())
    check_metric_names("dashboard", dashboard_expressions())


def check_grafana() -> None:
    dashboard = json.loads((root / "deploy/grafana/ward-dashboard.json").read_text())
    for field in ("uid", "title", "panels", "schemaVersion"):
        if field not in dashboard:
            fail(f"dashboard: no {field}")
    ids = [p.get("id") for p in dashboard.get("panels", [])]
    if len(ids) != len(set(ids)) or None in ids:
        fail("dashboard: panel ids missing or repeated")
    cells: dict[tuple[int, int], str] = {}
    for panel in dashboard.get("panels", []):
        grid = panel.get("gridPos", {})
        if not all(k in grid for k in "hwxy") or grid["x"] + grid["w"] > 24:
            fail(f"dashboard: panel {panel.get('title')!r} has no valid gridPos")
            continue
        area = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"]) for y in range(grid["y"], grid["y"] + grid["h"])}
        for other in sorted({cells[cell] for cell in area & cells.keys()}):
            fail(f"dashboard: panels {other!r} and {panel.get('title')!r} overlap")
        cells.update({cell: panel.get("title") for cell in area})
        if panel.get("type") != "row":
            if not panel.get("targets") or not all(t.get("expr") for t in panel["targets"]):
                fail(f"dashboard: panel {panel.get('title')!r} has no query")
            if panel.get("datasource", {}).get("uid") != "${datasource}":
                fail(f"dashboard: panel {panel.get('title')!r} does not use the datasource variable")


def grafana_rules() -> None:
    """The dashboard's queries as recording rules, for `promtool check rules` to parse."""
    groups = [{"name": "dashboard", "rules": []}]
    for index, (where, expr) in enumerate(dashboard_expressions()):
        expr = expr.replace("$__rate_interval", "5m").replace("$__interval", "1m").replace("$instance", ".*")
        groups[0]["rules"].append({"record": f"dashboard:query{index}", "expr": expr, "labels": {"panel": where}})
    Path(sys.argv[3]).write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))


checks = {
    "dockerfile": check_dockerfile, "compose": check_compose, "kubernetes": check_kubernetes,
    "nginx": check_nginx, "systemd": check_systemd, "metrics": check_metrics, "grafana": check_grafana,
    "grafana-rules": grafana_rules,
}
checks[sys.argv[1]]()
for problem in problems:
    print(problem, file=sys.stderr)
sys.exit(1 if problems else 0)
