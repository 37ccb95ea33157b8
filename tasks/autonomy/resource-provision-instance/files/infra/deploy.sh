#!/bin/bash
# Deploys the build farm configuration (not needed for provisioning).
set -e
source "$(dirname "$0")/deploy.env"
echo "would deploy to $NIMBUS_DEFAULT_REGION via $NIMBUS_ENDPOINT"
