// kvgo: the ceiling of `make bench`, a minimal key-value chaincode on the official Go
// shim (fabric-chaincode-go/v2), run as a chaincode service with mutual TLS, as the
// project's Python server is (same environment variables, same link CA).
//
// Functions: Put(key, value) writes value under key and returns nothing; Get(key)
// returns the value (an error if absent); Pattern(key, value) makes IssueBill's ledger
// traffic without its rules: 3 reads (key, "unit", "seal/"+key), the first entry of
// one range read (then closed), 5 writes (value under key, 4 index markers) and one
// private write (value under key in collection kvPrivate) in one write batch, and an
// event; PatternPublic(key, value) the same without the private write (what a private
// write costs the peers).
//
// Environment: CHAINCODE_ID, CHAINCODE_SERVER_ADDRESS, CHAINCODE_TLS_CERT,
// CHAINCODE_TLS_KEY, CHAINCODE_TLS_CLIENT_CA (PEM files; the client CA is required).
package main

import (
	"fmt"
	"os"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
)

type kv struct{}

func (kv) Init(shim.ChaincodeStubInterface) *peer.Response { return shim.Success(nil) }

func (kv) Invoke(stub shim.ChaincodeStubInterface) *peer.Response {
	fn, args := stub.GetFunctionAndParameters()
	switch {
	case fn == "Put" && len(args) == 2:
		if err := stub.PutState(args[0], []byte(args[1])); err != nil {
			return shim.Error(err.Error())
		}
		return shim.Success(nil)
	case (fn == "Pattern" || fn == "PatternPublic") && len(args) == 2:
		if err := pattern(stub, args[0], []byte(args[1]), fn == "Pattern"); err != nil {
			return shim.Error(err.Error())
		}
		return shim.Success(nil)
	case fn == "Get" && len(args) == 1:
		value, err := stub.GetState(args[0])
		if err != nil {
			return shim.Error(err.Error())
		}
		if value == nil {
			return shim.Error("not found: " + args[0])
		}
		return shim.Success(value)
	}
	return shim.Error(fmt.Sprintf("unknown call %s with %d arguments: Put(key, value), Get(key), Pattern(key, value) or PatternPublic(key, value)", fn, len(args)))
}

// pattern is IssueBill's access pattern (see the file's comment); bench/kvpy.py has its twin.
func pattern(stub shim.ChaincodeStubInterface, key string, value []byte, private bool) error {
	for _, k := range []string{key, "unit", "seal/" + key} {
		if _, err := stub.GetState(k); err != nil {
			return err
		}
	}
	it, err := stub.GetStateByRange("batch/", "batch0")
	if err != nil {
		return err
	}
	if it.HasNext() {
		if _, err := it.Next(); err != nil {
			return err
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	// Fabric 3's write batch: the Go shim sends the writes in one message only when asked.
	stub.StartWriteBatch()
	if err := stub.PutState(key, value); err != nil {
		return err
	}
	for _, index := range []string{"by-unit/", "by-payer/", "by-status/", "by-period/"} {
		if err := stub.PutState(index+key, []byte{0}); err != nil {
			return err
		}
	}
	if private {
		if err := stub.PutPrivateData(Collection, key, value); err != nil {
			return err
		}
	}
	if err := stub.FinishWriteBatch(); err != nil {
		return err
	}
	return stub.SetEvent("Pattern", []byte(`{"key":"`+key+`"}`))
}

// Collection is the private data collection Pattern writes (every org a member).
const Collection = "kvPrivate"

func required(name string) string {
	value := os.Getenv(name)
	if value == "" {
		fmt.Fprintf(os.Stderr, "kvgo: %s is required\n", name)
		os.Exit(2)
	}
	return value
}

func file(name string) []byte {
	data, err := os.ReadFile(required(name))
	if err != nil {
		fmt.Fprintf(os.Stderr, "kvgo: %s: %v\n", name, err)
		os.Exit(2)
	}
	return data
}

func main() {
	server := &shim.ChaincodeServer{
		CCID:    required("CHAINCODE_ID"),
		Address: required("CHAINCODE_SERVER_ADDRESS"),
		CC:      kv{},
		TLSProps: shim.TLSProperties{
			Key:           file("CHAINCODE_TLS_KEY"),
			Cert:          file("CHAINCODE_TLS_CERT"),
			ClientCACerts: file("CHAINCODE_TLS_CLIENT_CA"),
		},
	}
	fmt.Printf("kvgo listening on %s\n", server.Address)
	if err := server.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "kvgo: %v\n", err)
		os.Exit(1)
	}
}
