#!/bin/bash
# The index suite (test_index.sh) with the backend in host-network mode
# (--network host): the registry reaches the events listener on 127.0.0.1.
export SR_TEST_NETWORK=host T_NAME=index_host
exec bash "$(dirname "$0")/test_index.sh"
