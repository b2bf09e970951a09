module nativeroute

go 1.19
