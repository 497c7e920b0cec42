# The identity seed's curl commands, verbatim; tests/identity/test_seed_curl.py swaps the
# hosts for a local server's address and runs each block with bash.

# --- discovery
curl -v -X GET "https://registry-euw1shared.pikselpalette.com/services/$ACCOUNT_NAME"

# --- encode
export ENCODED_CLIENT_CREDS=$(echo -n 'owner.your_client_id:your_secret' | openssl base64)

# --- app
curl -v -X POST "https://identity-euw1shared.pikselpalette.com/oauth/token" \
        -H "Authorization: Basic $ENCODED_CLIENT_CREDS" \
        -H "Content-Type: application/x-www-form-urlencoded" \
        -d "grant_type=client_credentials"

# --- user
curl -v -X POST "https://identity-euw1shared.pikselpalette.com/oauth/token" \
        -H "Authorization: Basic $ENCODED_CLIENT_CREDS" \
        -H "Content-Type: application/x-www-form-urlencoded" \
        -d "grant_type=password&username=test\test-user&password=itsasecret"

# --- verify
curl -v -X GET "https://identity-euw1shared.pikselpalette.com/oauth/token" \
        -H "Authorization: Bearer $ACCESS_TOKEN"
