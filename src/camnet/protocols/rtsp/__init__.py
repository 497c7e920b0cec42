"""RTSP 1.0 server serving the live streams as H.264 (RFC 2326, RFC 6184)."""
