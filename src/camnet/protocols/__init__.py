"""camnet's own standard protocols: HTTP/HTTPS listeners and the RTSP server."""
