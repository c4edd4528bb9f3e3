# The ebill chaincode server (chaincode as a service) for deploy/k8s/manifests.
# Not built here (this machine has no container runtime). From the repository root:
#   docker build -f deploy/k8s/chaincode.Dockerfile -t ebill/chaincode:0.1.0 .
# It is configured by its environment (CHAINCODE_ID, CHAINCODE_SERVER_ADDRESS, the
# TLS files...; see `python -m ebill_chaincode --help`), which the StatefulSet sets.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /opt/ebill
# One Python project holds the contract, the clients and the network tools.
COPY pyproject.toml README.md ./
COPY chaincode ./chaincode
COPY client ./client
COPY network ./network
RUN pip install . && useradd --system --uid 10001 --home-dir /var/lib/ebill ebill \
    && mkdir -p /var/lib/ebill && chown ebill /var/lib/ebill
USER 10001
EXPOSE 7099
ENTRYPOINT ["python", "-m", "ebill_chaincode"]
