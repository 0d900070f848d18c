#!/bin/bash
# Usage: bash scripts/soak.sh [SECONDS]   (release build first; needs tmux)
# Soak: the console in tmux (a real pseudo-terminal), traffic at 2,000/s against its
# built-in stack for $1 seconds; RSS sampled every minute; counts read off the screen.
cd "$(dirname "$0")/.."
DUR=${1:-600}
tmux kill-session -t mtls-soak 2>/dev/null
rm -f /tmp/mtls-console-soak.log
tmux new-session -d -s mtls-soak -x 200 -y 60 "target/release/mtls-console --log-file /tmp/mtls-console-soak.log"
sleep 5
P=$(pgrep -f "^target/release/mtls-console --log-file /tmp/mtls-console-soak.log" | head -1)
echo "start RSS: $(grep VmRSS /proc/$P/status)"
for i in 1 2 3 4 5 6 7; do tmux send-keys -t mtls-soak +; sleep 0.2; done
tmux send-keys -t mtls-soak t
start=$(date +%s)
cpu0=$(awk '{print $14+$15}' /proc/$P/stat)
while [ $(( $(date +%s) - start )) -lt $DUR ]; do
  sleep $(( DUR < 60 ? DUR : 60 ))
  echo "$(( $(date +%s) - start )) s RSS: $(grep VmRSS /proc/$P/status | awk '{print $2, $3}')"
done
cpu1=$(awk '{print $14+$15}' /proc/$P/stat)
tmux capture-pane -t mtls-soak -p | grep -E "running|sent|unexpected|success|failures" | head -8
tmux send-keys -t mtls-soak t
sleep 8
echo "--- after stop"
tmux capture-pane -t mtls-soak -p | grep -E "stopped|sent|unexpected|success|failures|p50" | head -10
echo "end RSS: $(grep VmRSS /proc/$P/status)"
echo "CPU: $(( (cpu1-cpu0) )) ticks over $DUR s"
echo "--- frame times (render, diff, write), one line a minute"
grep -o "frames: .*" /tmp/mtls-console-soak.log
tmux send-keys -t mtls-soak q
sleep 2
tmux kill-session -t mtls-soak 2>/dev/null
