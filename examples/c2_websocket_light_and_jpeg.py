#!/usr/bin/python3

# Example in Python3
#
# 1. Connect to websocket-server
# 2. Check camera 1 is connected
# 3. If camera 1 is connected then toggle the light
# 4. Take a jpg image and save it as file
# 5. Close connection
#
# Install dependencies:
#   pip install websocket-client
#   pip install requests
#   pip install json
#

from websocket import create_connection
import requests
import json

ROTO_CLEAR_IP = "127.0.0.1"
ROTO_CLEAR_PORT = "8080"
MY_API_TOKEN = "paste-the-API-User-token-here"

WEBSOCKET_API_URL_WITH_AUTH = "ws://" + ROTO_CLEAR_IP + ":" + ROTO_CLEAR_PORT + "/api?token=" + MY_API_TOKEN
HTTP_CAMERA_IMAGE_URL_WITH_AUTH = "http://" + ROTO_CLEAR_IP + ":" + ROTO_CLEAR_PORT + "/camera.jpeg?user=API-User&token=" + MY_API_TOKEN

ws = create_connection(WEBSOCKET_API_URL_WITH_AUTH)

# after the connection the api response is the whole system state
response = ws.recv()
systemState = json.loads(response)

# print state in console
print(systemState)

if systemState["cam0Exists"]:
    # toggle light
    if systemState["light0"]:
        jsonText = json.dumps({"light0": False})
        ws.send(jsonText)
    else:
        jsonText = json.dumps({"light0": True})
        ws.send(jsonText)

    # get jpeg and save it
    imageResponse = requests.get(HTTP_CAMERA_IMAGE_URL_WITH_AUTH)

    f = open("myCurrentImg.jpg", "wb")
    f.write(imageResponse.content)
    f.close()
else:
    print("No camera head detected")

ws.close()
