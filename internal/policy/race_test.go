//go:build race

package policy_test

// raceBuild is true under the race detector, which makes the exhaustive
// test about ten times slower while finding nothing in a pure function.
const raceBuild = true
