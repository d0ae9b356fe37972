# `make bench`: measures the whole stack on this machine (start-up, sequential and
# concurrent latency against the NLU-only baseline, memory, training time, model size)
# and writes reports/benchmarks.md and reports/benchmarks.json (git-ignored: figures belong
# to a machine and a commit, which the report names). Takes 4-6 minutes; bounded
# to 9 (bench/__main__.py --budget-seconds). BENCH_ARGS=--strict fails on a budget.
.PHONY: bench
bench: $(STAMP) $(KB_DB) $(MODEL)
	$(PY) -m bench --model $(MODEL) --kb-db $(KB_DB) \
		--out-md reports/benchmarks.md --out-json reports/benchmarks.json \
		--make-targets $(STAMP) $(KB_DB) $(MODEL) $(BENCH_ARGS)
