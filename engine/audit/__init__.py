"""Proof that the record is intact: the hash chain, verification and export."""
