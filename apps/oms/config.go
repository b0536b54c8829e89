package main

import "github.com/harvest/harvest/apps/oms/omsconfig"

// Config is OMS's configuration (apps/oms/omsconfig).
type Config = omsconfig.Config

func readConfig(environ []string) (Config, error) { return omsconfig.Read(environ) }
