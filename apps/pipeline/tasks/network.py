"""Pipeline tasks: network. The network has no background work: its writes are made in
requests (or by the demo) and nothing about zones, assets, sensors or teams is due later."""
