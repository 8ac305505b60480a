#!/usr/bin/env bash
# Contract check: run Schemathesis over every operation of the committed
# OpenAPI document (openapi/openapi.json) against a freshly started server.
#
#   tests/contract/run-schemathesis.sh [sqlite|postgres] [extra schemathesis run options...]
#
# Environment:
#   KH_SCHEMATHESIS_MAX_EXAMPLES  test cases per operation (default 100)
#   KH_SCHEMATHESIS_SEED          random seed (default 20261123)
#   KH_OPENAPI_SPEC               document to test (default <repo>/openapi/openapi.json)
#   plus what tests/support/server.sh reads (CARGO_TARGET_DIR, KEYHOLDER_BIN,
#   KEYHOLDER_TEST_POSTGRES_URL, KH_KEEP_WORKDIR).
# Reports (JUnit XML) go to ${CARGO_TARGET_DIR:-<repo>/target}/contract-artifacts/<backend>/.
set -euo pipefail

backend="${1:-sqlite}"
if [[ $# -gt 0 ]]; then shift; fi
case "$backend" in
    sqlite | postgres) ;;
    -h | --help)
        sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "usage: $0 [sqlite|postgres] [schemathesis run options...]" >&2
        exit 2
        ;;
esac

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../support/server.sh
source "$script_dir/../support/server.sh"
cd "$KH_ROOT"

# The schemathesis command: on PATH, or the module of python3's (a pip
# install does not always put a new script on PATH, e.g. under pyenv).
find_schemathesis() {
    if command -v schemathesis >/dev/null 2>&1; then
        ST=(schemathesis)
    elif python3 -c 'import schemathesis.cli' >/dev/null 2>&1; then
        ST=(python3 -m schemathesis.cli)
    else
        return 1
    fi
}
if ! find_schemathesis; then
    echo "schemathesis not found; installing it with pip" >&2
    python3 -m pip install --quiet 'schemathesis>=4.32,<5'
    hash -r
    find_schemathesis || {
        echo "schemathesis is still missing after pip install" >&2
        exit 1
    }
fi
st_version="$("${ST[@]}" --version 2>&1 | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1)"
if [[ "${st_version%%.*}" != 4 ]]; then
    echo "this script needs Schemathesis 4.x (found '${st_version:-unknown}'): pip install 'schemathesis>=4.32,<5'" >&2
    exit 1
fi

spec="${KH_OPENAPI_SPEC:-$KH_ROOT/openapi/openapi.json}"
artifacts="${CARGO_TARGET_DIR:-$KH_ROOT/target}/contract-artifacts/$backend"
mkdir -p "$artifacts"

kh_traps
# Thousands of generated requests: the per-minute limits of searches,
# invitations and password changes and the daily sending limit would answer
# 429 long before the end (their own tests check them).
export KEYHOLDER_INVITE_DAILY_LIMIT="${KEYHOLDER_INVITE_DAILY_LIMIT:-1000000}"
export KEYHOLDER_ACTION_RATE_LIMIT="${KEYHOLDER_ACTION_RATE_LIMIT:-0}"
export KEYHOLDER_PASSWORD_RATE_LIMIT="${KEYHOLDER_PASSWORD_RATE_LIMIT:-0}"
# A root account for the administrators' operations.
export KEYHOLDER_ROOT_EMAIL="root@contract.example" KEYHOLDER_ROOT_USERNAME="contract_root"
export KEYHOLDER_ROOT_PASSWORD="contract-root-password"
kh_server_start "$backend"

if [[ ! -f "$spec" ]]; then
    if [[ "${CI:-false}" == true ]]; then
        echo "ERROR: $spec is missing; commit the document (keyholder openapi > openapi/openapi.json)" >&2
        exit 1
    fi
    # Only for a local tree where the document has not been committed yet.
    echo "WARNING: $spec is missing; testing the document the binary prints (keyholder openapi)" >&2
    spec="$KH_WORKDIR/openapi.json"
    "$KH_BIN" openapi >"$spec"
fi

run_schemathesis() {
    cd "$KH_WORKDIR"
    # tests/contract/hooks.py: a fresh Idempotency-Key per request, no made-up cursors.
    export PYTHONPATH="$script_dir${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=hooks
    exec "${ST[@]}" --config-file "$KH_WORKDIR/schemathesis.toml" "${color[@]}" run "$spec" \
        --url "$KH_BASE_URL" \
        --max-examples "${KH_SCHEMATHESIS_MAX_EXAMPLES:-100}" \
        --seed "${KH_SCHEMATHESIS_SEED:-20261123}" \
        --generation-database none \
        --request-timeout 30 \
        --report junit \
        --report-junit-path "$artifacts/junit.xml" \
        "$@"
}

# What the fuzzer cannot invent, made before it starts (tests/contract/schemathesis.toml
# reads the KH_* names it exports): the contract user's address is confirmed
# (creating an estate, a household or a grant needs it); a second confirmed
# user invites the contract user to four of its assets and adds it to its
# household, so that the invitee's and the member's operations (accept,
# decline, drop a share, leave a household) have real data and the operations
# that take a username name a real one; and the emailed tokens of the token
# operations (an invitation to preview, accept, decline and sign up with, an
# address to confirm, a password to reset) are read from the mail folder.
# Appends "$2", quoted, to the comma-separated list in the variable named $1.
append() {
    local -n list="$1"
    list+="${list:+, }\"$2\""
}
json_field() { python3 -c 'import json, sys; v = json.load(sys.stdin); [v := v[k] for k in sys.argv[1:]]; print(v)' "$@"; }
register() { # email username: prints the answer
    kh_api POST /api/v1/auth/register "" \
        "{\"email\":\"$1\",\"username\":\"$2\",\"password\":\"password-of-$2\",\"display_name\":\"Tester $2\"}"
}
seed_contract_data() {
    kh_verify_email "$KH_EMAIL" || return 1
    local suffix body other asset i email
    suffix="$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
    KH_OTHER_USERNAME="other_$suffix"
    KH_OTHER_EMAIL="other-$suffix@example.com"
    body="$(register "$KH_OTHER_EMAIL" "$KH_OTHER_USERNAME")" || return 1
    other="$(json_field access_token <<<"$body")"
    KH_OTHER_USER_ID="$(json_field user id <<<"$body")"
    kh_verify_email "$KH_OTHER_EMAIL" || return 1
    # A confirmed user for explainAccess; an unconfirmed one for verifyEmail.
    register "unconfirmed-$suffix@example.com" "unconfirmed_$suffix" >/dev/null || return 1
    KH_VERIFY_TOKEN="$(kh_mail_token "unconfirmed-$suffix@example.com" /verify-email)" || return 1
    kh_api POST /api/v1/auth/password-reset "" "{\"email\":\"$KH_OTHER_EMAIL\"}" >/dev/null || return 1
    KH_RESET_TOKEN="$(kh_mail_token "$KH_OTHER_EMAIL" /reset-password)" || return 1
    # A user of its own whose session logOut ends (ending the contract
    # user's would sign the rest of the run out), and one moving to another
    # address: confirmEmailChange's token.
    body="$(register "leaver-$suffix@example.com" "leaver_$suffix")" || return 1
    KH_LOGOUT_TOKEN="$(json_field access_token <<<"$body")"
    body="$(register "mover-$suffix@example.com" "mover_$suffix")" || return 1
    kh_api POST /api/v1/me/email "$(json_field access_token <<<"$body")" \
        "{\"new_email\":\"moved-$suffix@example.com\",\"password\":\"password-of-mover_$suffix\"}" >/dev/null || return 1
    KH_EMAIL_CHANGE_TOKEN="$(kh_mail_token "moved-$suffix@example.com" /confirm-email)" || return 1
    # The run's own session, which revokeSession must never end (the fuzzer
    # reuses ids it saw in listMySessions), and spare sessions of the
    # contract user for it to end instead.
    KH_SESSION_ID="$(kh_api GET /api/v1/me/sessions "$KH_TOKEN" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["items"][0]["id"])')" || return 1
    KH_USER_ID="$(kh_api GET /api/v1/me "$KH_TOKEN" | json_field id)" || return 1
    # Root's token for the administrators' operations, and accounts they
    # may disable (never the contract user's: tests/contract/hooks.py).
    body="$(kh_api POST /api/v1/auth/login "" \
        "{\"login\":\"$KEYHOLDER_ROOT_USERNAME\",\"password\":\"$KEYHOLDER_ROOT_PASSWORD\"}")" || return 1
    KH_ROOT_TOKEN="$(json_field access_token <<<"$body")"
    local disposable=""
    for i in 1 2 3 4; do
        body="$(register "disposable-$i-$suffix@example.com" "disposable_${i}_$suffix")" || return 1
        append disposable "$(json_field user id <<<"$body")"
    done
    local spare_sessions=""
    for i in $(seq 1 40); do
        body="$(kh_api POST /api/v1/auth/login "" \
            "{\"login\":\"$KH_USERNAME\",\"password\":\"$KH_PASSWORD\"}")" || return 1
        append spare_sessions "$(json_field session_id <<<"$body")"
    done
    for i in 1 2 3 4 5 6 7; do
        asset="$(kh_api POST /api/v1/assets "$other" "{\"name\":\"Lent van $i\"}" | json_field id)" || return 1
        case $i in
            5) email="preview-$suffix@example.com" ;;
            6) email="decline-$suffix@example.com" ;;
            7) email="signup-$suffix@example.com" ;;
            *) email="$KH_EMAIL" ;;
        esac
        kh_api POST "/api/v1/assets/$asset/invitations" "$other" \
            "{\"email\":\"$email\",\"permission\":\"edit\"}" >/dev/null || return 1
    done
    KH_ACCEPT_TOKEN="$(kh_mail_token "$KH_EMAIL" /invitations/accept)" || return 1
    KH_PREVIEW_TOKEN="$(kh_mail_token "preview-$suffix@example.com" /invitations/accept)" || return 1
    KH_DECLINE_TOKEN="$(kh_mail_token "decline-$suffix@example.com" /invitations/accept)" || return 1
    KH_SIGNUP_TOKEN="$(kh_mail_token "signup-$suffix@example.com" /invitations/accept)" || return 1
    kh_api POST /api/v1/household/members "$other" \
        "{\"username\":\"$KH_USERNAME\",\"role\":\"viewer\"}" >/dev/null || return 1
    # Assets of the contract user shared with the second user (who accepts
    # by the emailed link): one whose share changes, eight to revoke (a
    # revoked share is 404 afterwards).
    KH_REVOKE_SHARE_ASSETS=""
    for i in change 1 2 3 4 5 6 7 8; do
        asset="$(kh_api POST /api/v1/assets "$KH_TOKEN" "{\"name\":\"Shared van ($i)\"}" | json_field id)" || return 1
        kh_api POST "/api/v1/assets/$asset/invitations" "$KH_TOKEN" \
            "{\"email\":\"$KH_OTHER_EMAIL\",\"permission\":\"view\"}" >/dev/null || return 1
        body="$(kh_mail_token "$KH_OTHER_EMAIL" /invitations/accept)" || return 1
        kh_api POST /api/v1/invitations/accept "$other" "{\"token\":\"$body\"}" >/dev/null || return 1
        if [[ $i == change ]]; then
            KH_CHANGE_SHARE_ASSET="$asset"
        else
            append KH_REVOKE_SHARE_ASSETS "$asset"
        fi
    done
    # More invitations for the contract user to accept or decline from its list.
    for i in 1 2 3 4 5 6; do
        asset="$(kh_api POST /api/v1/assets "$other" "{\"name\":\"Offered van $i\"}" | json_field id)" || return 1
        kh_api POST "/api/v1/assets/$asset/invitations" "$other" \
            "{\"email\":\"$KH_EMAIL\",\"permission\":\"view\"}" >/dev/null || return 1
    done
    # Assets of the contract user on which the second user collaborates too:
    # removeCollaborator takes the first six one by one (the second user is
    # then no longer there: 404), removeCollaboratorsInBulk the other two.
    KH_COLLAB_ASSETS="" KH_BULK_ASSETS=""
    for i in 1 2 3 4 5 6 7 8; do
        asset="$(kh_api POST /api/v1/assets "$KH_TOKEN" "{\"name\":\"Pool car $i\"}" | json_field id)" || return 1
        kh_api POST "/api/v1/assets/$asset/collaborators" "$KH_TOKEN" \
            "{\"username\":\"$KH_OTHER_USERNAME\"}" >/dev/null || return 1
        if ((i <= 6)); then
            append KH_COLLAB_ASSETS "$asset"
        else
            append KH_BULK_ASSETS "$asset"
        fi
    done
    # Shares the contract user holds (accepted from its list): dropMyShare.
    KH_HELD_SHARES=""
    for i in 1 2 3 4 5 6; do
        asset="$(kh_api POST /api/v1/assets "$other" "{\"name\":\"Loaned van $i\"}" | json_field id)" || return 1
        body="$(kh_api POST "/api/v1/assets/$asset/invitations" "$other" \
            "{\"email\":\"$KH_EMAIL\",\"permission\":\"view\"}")" || return 1
        kh_api POST "/api/v1/me/invitations/$(json_field id <<<"$body")/accept" "$KH_TOKEN" '{}' >/dev/null || return 1
        append KH_HELD_SHARES "$asset"
    done
    # Pending invitations the contract user sent: resend and cancel them.
    KH_PENDING_INVITATIONS=""
    asset="$(kh_api POST /api/v1/assets "$KH_TOKEN" '{"name":"Invited van"}' | json_field id)" || return 1
    for i in $(seq 1 24); do
        body="$(kh_api POST "/api/v1/assets/$asset/invitations" "$KH_TOKEN" \
            "{\"email\":\"pending-$i-$suffix@example.com\",\"permission\":\"view\"}")" || return 1
        append KH_PENDING_INVITATIONS "$(json_field id <<<"$body")"
    done
    # Estates of the contract user, each with a site, where the second user
    # is a viewer: removeEstateMember, setSiteOverride and clearSiteOverride.
    KH_MEMBER_ESTATES="" KH_MEMBER_SITES=""
    for i in 1 2 3 4 5 6; do
        body="$(kh_api POST /api/v1/estates "$KH_TOKEN" "{\"name\":\"Depot $i\"}")" || return 1
        estate="$(json_field id <<<"$body")"
        body="$(kh_api POST "/api/v1/estates/$estate/sites" "$KH_TOKEN" '{"name":"Yard"}')" || return 1
        append KH_MEMBER_SITES "$(json_field id <<<"$body")"
        kh_api POST "/api/v1/estates/$estate/invitations" "$KH_TOKEN" \
            "{\"email\":\"$KH_OTHER_EMAIL\",\"role\":\"viewer\"}" >/dev/null || return 1
        append KH_MEMBER_ESTATES "$estate"
    done
    # Estates where the second user is a viewer for setEstateMember (it
    # changes their role, never removes them) and for the ownership
    # transfers (each estate moves once; the contract user is then admin).
    KH_ROLE_ESTATES="" KH_TRANSFER_ESTATES=""
    for i in $(seq 1 24); do
        body="$(kh_api POST /api/v1/estates "$KH_TOKEN" "{\"name\":\"Hub $i\"}")" || return 1
        estate="$(json_field id <<<"$body")"
        kh_api POST "/api/v1/estates/$estate/invitations" "$KH_TOKEN" \
            "{\"email\":\"$KH_OTHER_EMAIL\",\"role\":\"viewer\"}" >/dev/null || return 1
        if ((i <= 3)); then
            append KH_ROLE_ESTATES "$estate"
        else
            append KH_TRANSFER_ESTATES "$estate"
        fi
    done
    # Records on one asset of the contract user: deleteRecord, updateRecord.
    KH_RECORD_ASSET="$(kh_api POST /api/v1/assets "$KH_TOKEN" '{"name":"Serviced van"}' | json_field id)" || return 1
    KH_RECORDS=""
    for i in $(seq 1 12); do
        body="$(kh_api POST "/api/v1/assets/$KH_RECORD_ASSET/records" "$KH_TOKEN" \
            "{\"kind\":\"service\",\"date\":\"2026-11-$(printf %02d "$i")\",\"title\":\"Service $i\"}")" || return 1
        append KH_RECORDS "$(json_field id <<<"$body")"
    done
    # Files on the same asset: getFile and downloadFile (and deleteFile,
    # which takes them one by one).
    KH_FILES=""
    printf '\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82' \
        >"$KH_WORKDIR/seed.png"
    for i in $(seq 1 8); do
        body="$(curl -sS --fail-with-body --max-time 30 -H "Authorization: Bearer $KH_TOKEN" \
            -F "file=@$KH_WORKDIR/seed.png;filename=photo-$i.png" -F "caption=Photo $i" \
            "$KH_BASE_URL/api/v1/assets/$KH_RECORD_ASSET/files")" || return 1
        append KH_FILES "$(json_field id <<<"$body")"
    done
    # Members of the contract user's household (users of their own):
    # removeHouseholdMember and changeHouseholdMemberRole.
    KH_HOUSEHOLD_MEMBERS=""
    for i in 1 2 3 4 5 6; do
        body="$(register "kin-$i-$suffix@example.com" "kin_${i}_$suffix")" || return 1
        kh_api POST /api/v1/household/members "$KH_TOKEN" \
            "{\"username\":\"kin_${i}_$suffix\",\"role\":\"viewer\"}" >/dev/null || return 1
        append KH_HOUSEHOLD_MEMBERS "$(json_field user id <<<"$body")"
    done
    # Assets of the contract user alone (addCollaborator adds the second
    # user to each once) and users in no household (addHouseholdMember).
    local plain="" spare=""
    local -a invite_assets
    for i in $(seq 1 24); do
        invite_assets+=("\"$(kh_api POST /api/v1/assets "$KH_TOKEN" "{\"name\":\"Shown van $i\"}" | json_field id)\"") || return 1
    done
    for i in $(seq 1 12); do
        asset="$(kh_api POST /api/v1/assets "$KH_TOKEN" "{\"name\":\"Own van $i\"}" | json_field id)" || return 1
        append plain "$asset"
        register "spare-$i-$suffix@example.com" "spare_${i}_$suffix" >/dev/null || return 1
        append spare "spare_${i}_$suffix"
    done
    # Confirmed users in no estate: what searchUsersToInvite finds.
    local kin_emails=""
    for i in 1 2 3; do
        kh_verify_email "kin-$i-$suffix@example.com" || return 1
        append kin_emails "kin-$i-$suffix@example.com"
    done
    KH_KIN_EMAILS="$kin_emails"
    # Sites where the second user keeps an editor override (an estate of
    # their own, with no other operation pointed at it): clearSiteOverride.
    local clear_sites=""
    for i in 1 2 3 4; do
        estate="$(kh_api POST /api/v1/estates "$KH_TOKEN" "{\"name\":\"Yard $i\"}" | json_field id)" || return 1
        kh_api POST "/api/v1/estates/$estate/invitations" "$KH_TOKEN" \
            "{\"email\":\"$KH_OTHER_EMAIL\",\"role\":\"editor\"}" >/dev/null || return 1
        body="$(kh_api POST "/api/v1/estates/$estate/sites" "$KH_TOKEN" '{"name":"Gate"}')" || return 1
        append clear_sites "$(json_field id <<<"$body")"
    done
    # Pending invitations of one estate of the contract user: resend, cancel.
    local invitations_estate estate_invitations=""
    invitations_estate="$(kh_api POST /api/v1/estates "$KH_TOKEN" '{"name":"Hiring depot"}' | json_field id)" || return 1
    for i in $(seq 1 16); do
        body="$(kh_api POST "/api/v1/estates/$invitations_estate/invitations" "$KH_TOKEN" \
            "{\"email\":\"hire-$i-$suffix@example.com\",\"role\":\"viewer\"}")" || return 1
        append estate_invitations "$(json_field invitation id <<<"$body")"
    done
    KH_INVITATIONS_ESTATE="$invitations_estate" KH_ESTATE_INVITATIONS="$estate_invitations"
    KH_COLLAB_CSV="$(tr -d '" ' <<<"$KH_COLLAB_ASSETS")"
    # The pools tests/contract/hooks.py draws real ids from; one-time ones
    # split by phase (the transfers: 20 estates, 5 each).
    local -a transfer spares
    IFS=, read -ra transfer <<<"${KH_TRANSFER_ESTATES// /}"
    IFS=, read -ra spares <<<"${spare// /}"
    split() { # name, values...: "name:phase": [values] for the four phases
        local name="$1" out="" phase n i=0
        shift
        n=$((($# + 3) / 4))
        for phase in examples coverage fuzzing stateful; do
            local part="${*:i+1:n}"
            out+="${out:+, }\"$name:$phase\": [${part// /, }]"
            i=$((i + n))
        done
        printf '%s' "$out"
    }
    KH_POOLS="{\"own_assets\": [$KH_COLLAB_ASSETS], \"plain_assets\": [$plain],
        $(split transfer_estates "${transfer[@]}"), $(split spare_usernames "${spares[@]}"),
        $(split invite_assets "${invite_assets[@]}"),
        \"member_estates\": [$KH_ROLE_ESTATES], \"role_estates\": [$KH_ROLE_ESTATES],
        \"kin_emails\": [$kin_emails], \"invitations_estate\": [\"$invitations_estate\"],
        \"estate_invitations\": [$estate_invitations], \"other_user\": [\"$KH_OTHER_USER_ID\"],
        \"clear_sites\": [$clear_sites], \"own_asset_lists\": [[$KH_COLLAB_ASSETS]],
        \"own_assets_csv\": [\"$KH_COLLAB_CSV\"], \"asset_type\": [\"asset\"],
        \"shared_assets\": [\"$KH_CHANGE_SHARE_ASSET\"], \"spare_sessions\": [$spare_sessions], \"disposable_users\": [$disposable],
        $(split pending_invitations ${KH_PENDING_INVITATIONS//,/ })}"
    export KH_TOKEN KH_PASSWORD KH_LOGOUT_TOKEN KH_EMAIL_CHANGE_TOKEN KH_SESSION_ID KH_USER_ID KH_ROOT_TOKEN \
        KH_OTHER_USERNAME KH_OTHER_EMAIL KH_OTHER_USER_ID KH_VERIFY_TOKEN KH_RESET_TOKEN \
        KH_ACCEPT_TOKEN KH_PREVIEW_TOKEN KH_DECLINE_TOKEN KH_SIGNUP_TOKEN \
        KH_CHANGE_SHARE_ASSET KH_REVOKE_SHARE_ASSETS KH_COLLAB_ASSETS KH_BULK_ASSETS \
        KH_HELD_SHARES KH_PENDING_INVITATIONS KH_MEMBER_ESTATES KH_MEMBER_SITES \
        KH_ROLE_ESTATES KH_TRANSFER_ESTATES KH_RECORD_ASSET KH_RECORDS KH_FILES KH_HOUSEHOLD_MEMBERS KH_POOLS KH_KIN_EMAILS KH_COLLAB_CSV \
        KH_INVITATIONS_ESTATE KH_ESTATE_INVITATIONS
    # The config with these values written in (${NAME} anywhere in it).
    python3 -c 'import os, sys; sys.stdout.write(os.path.expandvars(open(sys.argv[1]).read()))' \
        "$script_dir/schemathesis.toml" >"$KH_WORKDIR/schemathesis.toml"
}

kh_register_user
seed_contract_data || {
    echo "could not seed the contract data" >&2
    exit 1
}
echo "registered $KH_USERNAME (and $KH_OTHER_USERNAME, who invited it); running schemathesis $st_version against $KH_BASE_URL with $spec" >&2

color=()
[[ -t 1 ]] || color=(--no-color)

# In the background + wait, so that a TERM/INT reaches the traps at once;
# in the workdir, where schemathesis may leave caches.
st_rc=0
kh_run_child run_schemathesis "$@" || st_rc=$?

if [[ $st_rc -ne 0 ]]; then
    echo "schemathesis ($backend) FAILED with exit code $st_rc; JUnit report: $artifacts/junit.xml" >&2
    kh_server_log_tail 30
    cp -f "$KH_SERVER_LOG" "$artifacts/server.log" 2>/dev/null || true
    exit "$st_rc"
fi
echo "schemathesis ($backend) passed" >&2
