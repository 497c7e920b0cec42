"""Devices: services on the bus that hold typed state and apply changes to hardware."""
