package main
import _ "github.com/tsenart/vegeta/v12/lib"
