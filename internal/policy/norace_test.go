//go:build !race

package policy_test

// raceBuild is true under the race detector; see race_test.go.
const raceBuild = false
