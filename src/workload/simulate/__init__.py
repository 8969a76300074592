"""The TGI simulator (`workload simulate` and the chart's simulator pod); see tgi_simulator.py."""
