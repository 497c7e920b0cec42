#!/usr/bin/python3

# Example in Python3 - Use http api to get and set data
#
# 1. Connect to websocket-server
# 2. Fetch some information from the system (eg. light0, record, recordTime, pan0)
# 3. Disable light and move pan cursor from current position via post request
#
# Install dependencies:
#   pip install requests
#   pip install json
#

import requests
import json

ROTO_CLEAR_IP = "127.0.0.1"
ROTO_CLEAR_PORT = "8080"
MY_API_TOKEN = "paste-the-API-User-token-here"
HTTP_API_URL_WITH_AUTH = "http://" + ROTO_CLEAR_IP + ":" + ROTO_CLEAR_PORT + "/api?user=API-User&token=" + MY_API_TOKEN

response = requests.get(HTTP_API_URL_WITH_AUTH + 
                            "&get=[light0,record,recordTime,pan0]")
jsonResponse = json.loads(response.content)

print(jsonResponse)

# disable light and move pan cursor from current position via post request
message = json.dumps({ 
    "light0": False,
    "pan0": { # relative values
        "x": -20.0, 
        "y": -30.0
    }
})

response = requests.post(HTTP_API_URL_WITH_AUTH, message)
print(response.content)
