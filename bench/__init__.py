"""`make bench`: latency, throughput, memory and start-up of the whole assistant."""
