#!/bin/sh
# Runs the stratus command (coordinator, worker, or a REST API command); arguments pass through.
# Used as the container's entrypoint and by the systemd units. Layout: $STRATUS_HOME/stratus.jar,
# its dependencies and any job jars in $STRATUS_HOME/lib/ (default STRATUS_HOME: this script's
# parent folder). JAVA_OPTS replaces the default heap setting, which follows the container's
# memory limit; a JVM out of heap exits, so that it is restarted instead of limping on.
set -eu
home=${STRATUS_HOME:-$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)}
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
# Hazelcast (cluster membership) reads JVM internals and needs these flags on Java 17.
# JAVA_OPTS is a list of options: it is split on spaces on purpose.
# shellcheck disable=SC2086
exec "$java" ${JAVA_OPTS:--XX:MaxRAMPercentage=75.0 -XX:+ExitOnOutOfMemoryError} \
  --add-modules java.se \
  --add-exports java.base/jdk.internal.ref=ALL-UNNAMED \
  --add-opens java.base/java.lang=ALL-UNNAMED \
  --add-opens java.base/sun.nio.ch=ALL-UNNAMED \
  --add-opens java.management/sun.management=ALL-UNNAMED \
  --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED \
  -cp "$home/stratus.jar:$home/lib/*" io.stratus.examples.StratusCli "$@"
