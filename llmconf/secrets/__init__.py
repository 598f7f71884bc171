"""Secrets: the store a render's secret('NAME') reads (store), and the key files switch
scripts left behind, which import adopts (keyfiles)."""
