"""Certificates (SPEC section 5): signed no-criminal-record certificates, notices that one
cannot be issued, and unit query letters, which anyone can verify offline."""
