#!/usr/bin/env python3
"""The hand-written script platgen replaces: PyYAML + jinja2, compose.yaml and
one Kubernetes manifest per service (ConfigMap, Deployment, Service, HPA).
No checks at all. Usage: render.py SPEC OUT_DIR. Timed by scripts/bench.sh."""
import os, sys, yaml, jinja2

COMPOSE = """# Generated from {{ spec }}; do not edit.
name: {{ name | tojson }}
services:
{% for n, s in services.items() %}  {{ n }}:
    image: {{ s.image | tojson }}
    restart: "unless-stopped"
{% if s.ports %}    ports:
{% for p in s.ports if p.host %}      - "{{ p.host }}:{{ p.container }}/{{ p.protocol | default('tcp') }}"
{% endfor %}{% endif %}{% if s.env %}    environment:
{% for k, v in s.env.items() %}      {{ k | tojson }}: {{ v | string | tojson }}
{% endfor %}{% endif %}{% if s.health and s.health.http %}    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:{{ s.ports[0].container }}{{ s.health.http.path }}"]
      interval: "10s"
{% endif %}{% if s.depends_on %}    depends_on:
{% for d in s.depends_on %}      {{ d }}: {condition: service_healthy}
{% endfor %}{% endif %}    profiles: ["phase-{{ s.phase }}"]
{% endfor %}"""

KUBE = """# Generated from {{ spec }}; do not edit.
{% set labels = {"app.kubernetes.io/name": n, "app.kubernetes.io/part-of": ns,
                  "app.kubernetes.io/managed-by": "script"} | tojson %}
apiVersion: v1
kind: ConfigMap
metadata:
  name: "{{ n }}-env"
  namespace: {{ ns | tojson }}
  labels: {{ labels }}
data:
{% for k, v in (s.env or {}).items() %}  {{ k | tojson }}: {{ v | string | tojson }}
{% endfor %}---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ n | tojson }}
  namespace: {{ ns | tojson }}
  labels: {{ labels }}
spec:
  replicas: {{ s.replicas | default(1) }}
  selector:
    matchLabels: {{ labels }}
  template:
    metadata:
      labels: {{ labels }}
    spec:
      containers:
        - name: {{ n | tojson }}
          image: {{ s.image | tojson }}
          ports:
{% for p in s.ports %}            - {name: {{ p.name | tojson }}, containerPort: {{ p.container }}, protocol: TCP}
{% endfor %}          envFrom:
            - configMapRef: {name: "{{ n }}-env"}
{% if s.health and s.health.http %}          readinessProbe:
            httpGet: {path: {{ s.health.http.path | tojson }}, port: {{ s.health.http.port | tojson }}}
          livenessProbe:
            httpGet: {path: {{ s.health.http.path | tojson }}, port: {{ s.health.http.port | tojson }}}
{% endif %}{% if s.resources %}          resources:
            requests: {cpu: {{ s.resources.cpu | string | tojson }}, memory: {{ s.resources.memory | tojson }}}
            limits: {cpu: {{ s.resources.cpu | string | tojson }}, memory: {{ s.resources.memory | tojson }}}
{% endif %}---
apiVersion: v1
kind: Service
metadata:
  name: {{ n | tojson }}
  namespace: {{ ns | tojson }}
  labels: {{ labels }}
spec:
  selector: {{ labels }}
  ports:
{% for p in s.ports %}    - {name: {{ p.name | tojson }}, port: {{ p.container }}, targetPort: {{ p.container }}}
{% endfor %}{% if s.autoscale %}---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ n | tojson }}
  namespace: {{ ns | tojson }}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: {{ n | tojson }}}
  minReplicas: {{ s.autoscale.min }}
  maxReplicas: {{ s.autoscale.max }}
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: {{ s.autoscale.cpu_percent }}}}
{% endif %}"""

def main(spec_path, out):
    with open(spec_path) as f:
        spec = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    ns, services = spec["name"], spec["services"]
    os.makedirs(os.path.join(out, "kubernetes"), exist_ok=True)
    with open(os.path.join(out, "compose.yaml"), "w") as f:
        f.write(env.from_string(COMPOSE).render(spec=spec_path, name=ns, services=services))
    kube = env.from_string(KUBE)
    for n, s in services.items():
        with open(os.path.join(out, "kubernetes", n + ".yaml"), "w") as f:
            f.write(kube.render(spec=spec_path, ns=ns, n=n, s=s))

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
