# shelly-sim authentication: Gen1 basic, Gen2+ SHA-256 digest in the four challenge styles
# (headers shaped like tests/fixtures/errors/*.txt), stale nonces, JSON-frame auth, and auth
# switched at run time through the control interface and through Shelly.SetAuth.
. tests/lib.sh
. tests/sim/simlib.sh

N=sim_auth
P1=gen2/plus-1pm
# Devices 0-3: Plus 1PM with digest styles hex, decimal, wall, b64 (--digest mixed = index % 4);
# 4: Gen1 Plug S (basic); 5: Plus 1PM without auth.
if ! sim_start $N --models "$P1,$P1,$P1,$P1,gen1/shelly-plug-s,$P1" --count 6 --auth 0-4 --digest mixed \
	--nonce-ttl-ms 3000; then
	fail "$N: start" "$(cat "$SIM_ERR")"
	exit 1
fi

[ "$(mf '[.devices[0:5][] | .auth.user == "admin" and (.auth.password | length) >= 8] | all')" = true ] &&
	[ "$(mf '.devices[5].auth')" = null ] && pass "$N: manifest credentials" || fail "$N: manifest auth" "$(mf '[.devices[].auth]')"
[ "$(mf '[.devices[0:4][].auth.digest] | join(",")')" = hex,decimal,wall,b64 ] && pass "$N: digest styles" ||
	fail "$N: digest styles" "$(mf '[.devices[].auth.digest]')"

id_of() { mf ".devices[$1].id"; }
pw_of() { mf ".devices[$1].auth.password"; }
code() { curl -s -m 3 -o /dev/null -w '%{http_code}' "$@"; }

# --- Gen2 digest, one style per device ---
for i in 0 1 2 3; do
	U=$(dev_url $i)
	id=$(id_of $i)
	curl -s -m 3 -D "$T_TMP/h$i" -o "$T_TMP/b$i" "$U/rpc/Shelly.GetStatus"
	st=$(sed -n '1s/^HTTP\/1.1 \([0-9]*\).*/\1/p' "$T_TMP/h$i")
	wa=$(sed -n 's/^WWW-Authenticate: //p' "$T_TMP/h$i" | tr -d '\r')
	case $i in
	0) re="^Digest qop=\"auth\", realm=\"$id\", nonce=\"[0-9a-f]+\", algorithm=SHA-256\$" ;;
	1) re="^Digest qop=\"auth\", realm=\"$id\", nonce=\"[0-9]{10}\", algorithm=SHA-256\$" ;;
	2) re="^Digest realm=\"$id\", qop=\"auth\", nonce=\"[0-9a-f]{8}\", opaque=\"\", algorithm=SHA-256\$" ;;
	3) re="^Digest qop=\"auth\", realm=\"$id\", nonce=\"[A-Za-z0-9+/]+=+\", algorithm=SHA-256\$" ;;
	esac
	style=$(mf ".devices[$i].auth.digest")
	[ "$st" = 401 ] && [ ! -s "$T_TMP/b$i" ] && echo "$wa" | grep -Eq "$re" &&
		pass "$N: $style challenge: 401, empty body, header as on devices" || fail "$N: $style challenge" "$st $wa"
	j=$(curl -s -m 3 --digest -u "admin:$(pw_of $i)" "$U/rpc/Shelly.GetStatus")
	[ "$(echo "$j" | jq -r .sys.mac)" = "$(mf ".devices[$i].mac")" ] && pass "$N: $style digest accepted (curl)" ||
		fail "$N: $style digest accepted" "$j"
	[ "$(code --digest -u "admin:wrong$i" "$U/rpc/Shelly.GetStatus")" = 401 ] && pass "$N: $style wrong password 401" ||
		fail "$N: $style wrong password"
	[ "$(code --digest -u "root:$(pw_of $i)" "$U/rpc/Shelly.GetStatus")" = 401 ] && pass "$N: $style wrong user 401" ||
		fail "$N: $style wrong user"
	j=$(curl -s -m 3 "$U/shelly")
	[ "$(echo "$j" | jq -c '[.auth_en, .auth_domain]')" = "[true,\"$id\"]" ] && pass "$N: $style /shelly open, auth_en/auth_domain" ||
		fail "$N: $style /shelly" "$j"
	[ "$(curl -s -m 3 "$U/rpc/Shelly.GetDeviceInfo" | jq -r .id)" = "$id" ] && pass "$N: $style GetDeviceInfo open" ||
		fail "$N: $style GetDeviceInfo"
done
s=$(ctl GET /devices/0/state)
[ "$(echo "$s" | jq -c '[.counters.auth_challenges >= 1, .counters.auth_failures >= 2]')" = '[true,true]' ] &&
	pass "$N: auth counters" || fail "$N: auth counters" "$(echo "$s" | jq -c .counters)"

# --- Gen1 basic ---
G=$(dev_url 4)
curl -s -m 3 -D "$T_TMP/hg" -o "$T_TMP/bg" "$G/status"
wa=$(sed -n 's/^WWW-Authenticate: //p' "$T_TMP/hg" | tr -d '\r')
[ "$(head -n1 "$T_TMP/hg" | cut -d' ' -f2)" = 401 ] && [ "$wa" = "Basic realm=\"$(id_of 4)\"" ] && pass "$N: gen1 401 basic challenge" ||
	fail "$N: gen1 challenge" "$wa"
[ "$(curl -s -m 3 -u "admin:$(pw_of 4)" "$G/status" | jq -r .mac)" = "$(mf '.devices[4].mac')" ] && pass "$N: gen1 basic accepted" ||
	fail "$N: gen1 basic"
[ "$(code -u admin:nope "$G/status")" = 401 ] && pass "$N: gen1 wrong password 401" || fail "$N: gen1 wrong password"
[ "$(curl -s -m 3 "$G/shelly" | jq -r .auth)" = true ] && pass "$N: gen1 /shelly open, auth true" || fail "$N: gen1 /shelly"

# --- stale nonce (firmware 2.0 style), nc tracking, JSON-frame auth: computed by hand ---
if command -v python3 >/dev/null 2>&1; then
	out=$(python3 - "$(dev_url 3)" "$(id_of 3)" "$(pw_of 3)" "$(dev_url 1)" "$(id_of 1)" "$(pw_of 1)" <<-'EOF'
	import hashlib, json, re, sys, time, urllib.request, urllib.error
	url, realm, pw, url1, realm1, pw1 = sys.argv[1:7]
	h = lambda s: hashlib.sha256(s.encode()).hexdigest()
	def get(u, hdr=None, data=None):
	    r = urllib.request.Request(u, headers=hdr or {}, data=data)
	    try:
	        with urllib.request.urlopen(r, timeout=3) as f:
	            return f.status, f.headers, f.read()
	    except urllib.error.HTTPError as e:
	        return e.code, e.headers, e.read()
	path = "/rpc/Shelly.GetStatus"
	def digest(nonce, nc):
	    ha1 = h(f"admin:{realm}:{pw}"); ha2 = h(f"GET:{path}")
	    r = h(f"{ha1}:{nonce}:{nc}:c0ffee:auth:{ha2}")
	    return {"Authorization": f'Digest username="admin", realm="{realm}", nonce="{nonce}", '
	            f'uri="{path}", algorithm=SHA-256, qop=auth, nc={nc}, cnonce="c0ffee", response="{r}"'}
	st, hd, _ = get(url + path)
	nonce = re.search(r'nonce="([^"]+)"', hd["WWW-Authenticate"]).group(1)
	print("nonce_ends_eq", nonce.endswith("="))
	print("first", get(url + path, digest(nonce, "00000001"))[0])
	print("replay", get(url + path, digest(nonce, "00000001"))[0])
	print("next", get(url + path, digest(nonce, "00000002"))[0])
	time.sleep(3.5)
	st, hd, _ = get(url + path, digest(nonce, "00000003"))
	print("expired", st, "stale=true" in (hd.get("WWW-Authenticate") or ""))
	# JSON-frame auth (WebSocket style) against the decimal-nonce device.
	ha1 = h(f"admin:{realm1}:{pw1}"); ha2 = h("dummy_method:dummy_uri")
	n = int(time.time()); cn = 12345
	resp = h(f"{ha1}:{n}:1:{cn}:auth:{ha2}")
	fr = {"id": 3, "src": "t", "method": "Switch.GetStatus", "params": {"id": 0},
	      "auth": {"realm": realm1, "username": "admin", "nonce": n, "cnonce": cn, "response": resp, "algorithm": "SHA-256"}}
	st, _, body = get(url1 + "/rpc", {"Content-Type": "application/json"}, json.dumps(fr).encode())
	j = json.loads(body); print("frame_ok", st, "result" in j and "output" in j["result"])
	fr["auth"]["response"] = "0" * 64
	st, _, body = get(url1 + "/rpc", {"Content-Type": "application/json"}, json.dumps(fr).encode())
	j = json.loads(body); m = json.loads(j["error"]["message"])
	print("frame_bad", j["error"]["code"], m["realm"] == realm1, m["algorithm"])
	EOF
	)
	echo "$out" | grep -qx 'nonce_ends_eq True' && pass "$N: b64 nonce ends in '='" || fail "$N: b64 nonce" "$out"
	echo "$out" | grep -qx 'first 200' && pass "$N: hand-made digest (RFC 7616) accepted" || fail "$N: hand digest" "$out"
	echo "$out" | grep -qx 'replay 401' && echo "$out" | grep -qx 'next 200' && pass "$N: nc tracked per nonce" || fail "$N: nc" "$out"
	echo "$out" | grep -qx 'expired 401 True' && pass "$N: expired nonce: 401 stale=true" || fail "$N: stale" "$out"
	echo "$out" | grep -qx 'frame_ok 200 True' && pass "$N: JSON-frame auth accepted" || fail "$N: frame auth" "$out"
	echo "$out" | grep -qx 'frame_bad 401 True SHA-256' && pass "$N: JSON-frame auth rejected with challenge" || fail "$N: frame auth bad" "$out"
else
	skip "$N: stale nonce and frame auth" "needs python3"
fi

# --- run time: control interface ---
U5=$(dev_url 5)
[ "$(code "$U5/rpc/Shelly.GetStatus")" = 200 ] && pass "$N: device 5 open" || fail "$N: device 5 open"
[ "$(ctl POST /devices/5/auth '{"enable":true,"password":"s3cret"}' | jq -r .auth.password)" = s3cret ] &&
	[ "$(mf '.devices[5].auth.password')" = s3cret ] && pass "$N: control enables auth, manifest updated" || fail "$N: control auth" "$(mf '.devices[5]')"
[ "$(code "$U5/rpc/Shelly.GetStatus")" = 401 ] && [ "$(code --digest -u admin:s3cret "$U5/rpc/Shelly.GetStatus")" = 200 ] &&
	pass "$N: auth turned on at run time" || fail "$N: run-time auth"
ctl POST /devices/5/auth '{"enable":false}' >/dev/null
[ "$(code "$U5/rpc/Shelly.GetStatus")" = 200 ] && [ "$(mf '.devices[5].auth')" = null ] && pass "$N: control disables auth" || fail "$N: control disable"

# The "auth" fault turns auth on with a generated password, shown in the manifest.
ctl POST /devices/5/fault '{"fault":"auth"}' >/dev/null
pw5=$(mf '.devices[5].auth.password')
[ "$(code "$U5/rpc/Shelly.GetStatus")" = 401 ] && [ "$(code --digest -u "admin:$pw5" "$U5/rpc/Shelly.GetStatus")" = 200 ] &&
	pass "$N: auth fault" || fail "$N: auth fault" "$pw5"
ctl POST /devices/5/auth '{"enable":false}' >/dev/null

# --- Shelly.SetAuth (ha1 only: the manifest shows ha1, password null) ---
id5=$(id_of 5)
ha1=$(printf 'admin:%s:newpw' "$id5" | sha256sum | cut -d' ' -f1)
r=$(curl -s -m 3 -X POST -d "{\"user\":\"admin\",\"realm\":\"$id5\",\"ha1\":\"$ha1\"}" "$U5/rpc/Shelly.SetAuth")
[ "$r" = null ] && [ "$(mf '.devices[5].auth.ha1')" = "$ha1" ] && [ "$(mf '.devices[5].auth.password')" = null ] &&
	pass "$N: Shelly.SetAuth" || fail "$N: Shelly.SetAuth" "$r $(mf '.devices[5].auth')"
[ "$(code --digest -u admin:newpw "$U5/rpc/Shelly.GetStatus")" = 200 ] && [ "$(code "$U5/rpc/Shelly.GetStatus")" = 401 ] &&
	pass "$N: SetAuth password works" || fail "$N: SetAuth password"
[ "$(curl -s -m 3 -o /dev/null -w '%{http_code}' -X POST -d "{\"user\":\"admin\",\"realm\":\"other\",\"ha1\":null}" \
	--digest -u admin:newpw "$U5/rpc/Shelly.SetAuth")" = 400 ] && pass "$N: SetAuth checks realm" || fail "$N: SetAuth realm"
curl -s -m 3 -X POST -d "{\"user\":\"admin\",\"realm\":\"$id5\",\"ha1\":null}" --digest -u admin:newpw "$U5/rpc/Shelly.SetAuth" >/dev/null
[ "$(code "$U5/rpc/Shelly.GetStatus")" = 200 ] && pass "$N: SetAuth ha1 null disables" || fail "$N: SetAuth disable"

# --- Gen1 /settings/login ---
[ "$(curl -s -m 3 -u "admin:$(pw_of 4)" "$G/settings/login?enabled=1&username=admin&password=pw2" | jq -r .enabled)" = true ] &&
	[ "$(code -u admin:pw2 "$G/status")" = 200 ] && [ "$(mf '.devices[4].auth.password')" = pw2 ] &&
	pass "$N: gen1 /settings/login changes the password" || fail "$N: gen1 login"

sim_stop
rc=$?
[ $rc -eq 0 ] && pass "$N: clean exit" || fail "$N: exit" "$rc $(tail -n 20 "$SIM_ERR")"
exit 0
