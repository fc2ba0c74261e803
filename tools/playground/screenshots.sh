#!/usr/bin/env bash
# make screenshots: the bot (cpc serve on a fresh SQLite database with the demo case), the Agents
# Playground, and headless Chromium typing into it; the PNGs land in var/screenshots/.
# Needs Node.js, npm and Debian's chromium (apt-get install chromium); kept out of `make test`.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
out="$root/var/screenshots"
work=$(mktemp -d)
mkdir -p "$out"
[ -d node_modules ] || npm install --no-audit --no-fund --silent
export CPC_DATABASE_URL="sqlite:///$work/cpc.sqlite3" CPC_OUTBOX_DIR="$work/outbox" CPC_PORT="${CPC_PORT:-3978}"
(cd "$work" && exec "$root/.venv/bin/cpc" serve >"$work/serve.log" 2>&1) &
serve=$!
node_modules/.bin/agentsplayground -e "http://127.0.0.1:$CPC_PORT/api/messages" -c msteams -p 56150 >"$work/playground.log" 2>&1 &
playground=$!
trap 'kill $serve $playground 2>/dev/null || true' EXIT
# The Playground takes another port when the one asked for is busy: read the one it says it took.
url=""
for _ in $(seq 60); do
  port=$(sed -n 's/^Listening on \([0-9]*\).*/\1/p' "$work/playground.log" | tail -1)
  if [ -n "$port" ] && curl -sf "http://127.0.0.1:$CPC_PORT/healthz" >/dev/null && curl -sf "http://127.0.0.1:$port" >/dev/null; then
    url="http://127.0.0.1:$port"
    break
  fi
  sleep 1
done
[ -n "$url" ] || { echo "the bot or the Agents Playground did not start: see $work" >&2; exit 1; }
# Cards the bot sends by itself (reminders, notices) or only with Outlook (panel declines and slots):
# gallery.py sends the bot's own drawings of them into the chat, to be seen as Teams renders them.
gallery=""
for kind in panel_decline panel_decline_lost panel_slots panel_slots_none notice reminder_met \
  reminder_dissent-decision_before-5_responsible reminder_dissent-decision_overdue-1_line_manager \
  reminder_dissent-window_opened_responsible reminder_stage1-meeting_before-1_responsible \
  decision_notice_upheld decision_notice_not_upheld decision_notice_declined; do
  gallery+="${gallery:+|}run:$root/.venv/bin/python gallery.py $kind"
done
# Each width runs the whole script on a case of its own: the first run records steps the second would
# otherwise find done already.
for pass in "1280 CPC-90001 CPC-90002" "400 CPC-90003 CPC-90004"; do
  read -r width ref new <<<"$pass"
  (cd "$work" && "$root/.venv/bin/cpc" demo --ref "$ref" >/dev/null)
  node screenshots.mjs "$url" "$out" \
    "help|dissent|dissent $ref the plan does not address neglect|dissent amend $ref Jane Smith was not seen alone|status $ref|cases|audit $ref|deadlines|click:Record the dissent|click:I have recorded it|decide $ref|complaint $ref|select:Complainant=Parent|pick:The decision on a child protection plan|fill:Summary (roles and references only)=The parent disputes the decision on a plan|click:Record complaint|stage2 $ref|click:Record|outcome $ref|panel $ref|correct $ref|$gallery|conference new|fill:Case reference=$new|fill:Start time=14:00|click:Set up conference|chat:Group Chat|@[Test Bot] conference link $ref|@[Test Bot] attendee add @[Megan Bowen] health|@[Test Bot] attendee remove @[Megan Bowen]|@[Test Bot] conference unlink $ref" \
    "$width"
done
echo "screenshots in $out"
