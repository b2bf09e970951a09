module orchestrator

go 1.19

require nativeroute v0.0.0

replace nativeroute => ../../../bindings/go
