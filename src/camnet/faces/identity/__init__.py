"""The identity dialect: OAuth tokens, verification, the service registry, and camnet's
own resources (accounts, users, clients, API keys) with the seed's error format."""
