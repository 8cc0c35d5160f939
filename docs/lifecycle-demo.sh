#!/usr/bin/env bash
# The 30-second hold lifecycle against a running API (make run), with real timestamps.
#   bash docs/lifecycle-demo.sh [BASE_URL]
set -euo pipefail
BASE=${1:-http://127.0.0.1:8000}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
stamp() { date -u +%H:%M:%S.%3N; }

start=$(date -u -d '+1 day' +%Y-%m-%dT19:00:00Z); end=$(date -u -d '+1 day' +%Y-%m-%dT21:30:00Z)
session=$(curl -s -X POST "$BASE/sessions" -H 'Content-Type: application/json' \
  -d "{\"movieName\":\"Demo\",\"roomNumber\":\"Sala 1\",\"startTime\":\"$start\",\"endTime\":\"$end\",\"ticketPrice\":25.00,\"totalSeats\":16}" | json 'd["id"]')
seat=$(curl -s "$BASE/sessions/$session/seats" | json 'd[0]["id"]')
echo "$(stamp) session $session, seat A1 $seat"

hold=$(curl -s -X POST "$BASE/reservations" -H 'Content-Type: application/json' \
  -d "{\"sessionId\":\"$session\",\"seatIds\":[\"$seat\"],\"userId\":\"ana\",\"userEmail\":\"ana@example.com\"}")
reservation=$(echo "$hold" | json 'd["id"]')
echo "$(stamp) ana holds A1: $(echo "$hold" | json 'd["status"], "createdAt", d["createdAt"], "expiresAt", d["expiresAt"], "remainingSeconds", d["remainingSeconds"]')"
echo "$(stamp) bia tries A1: HTTP $(curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/reservations" -H 'Content-Type: application/json' \
  -d "{\"sessionId\":\"$session\",\"seatIds\":[\"$seat\"],\"userId\":\"bia\",\"userEmail\":\"bia@example.com\"}")"
sleep 10
echo "$(stamp) ana's hold: $(curl -s "$BASE/reservations/$reservation" | json 'd["status"], "remainingSeconds", d["remainingSeconds"]')"
expires=$(echo "$hold" | json 'd["expiresAt"]')
python3 -c "import datetime,time; t=datetime.datetime.fromisoformat('$expires'.replace('Z','+00:00')).timestamp(); time.sleep(max(0, t-time.time()+0.05))"
echo "$(stamp) ana's hold: $(curl -s "$BASE/reservations/$reservation" | json 'd["status"], "remainingSeconds", d["remainingSeconds"]')"
echo "$(stamp) seat A1: $(curl -s "$BASE/sessions/$session/seats" | json 'd[0]["status"]')"
echo "$(stamp) bia tries A1: HTTP $(curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/reservations" -H 'Content-Type: application/json' \
  -d "{\"sessionId\":\"$session\",\"seatIds\":[\"$seat\"],\"userId\":\"bia\",\"userEmail\":\"bia@example.com\"}")"
echo "$(stamp) ana pays the lapsed hold: HTTP $(curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/sales" -H 'Content-Type: application/json' -d "{\"reservationId\":\"$reservation\"}")"
