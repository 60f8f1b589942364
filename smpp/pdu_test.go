package smpp_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/guichet/guichet/smpp"
)

func TestMessageRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		label string
		m     smpp.Message
	}{
		{"plain", smpp.Message{SourceAddr: "8000", DestTON: 1, DestNPI: 1, DestAddr: "237650000001", RegisteredDelivery: 1, ShortMessage: []byte("bonjour")}},
		// With UDH (esm_class 0x40) short_message must come back whole:
		// go-smpp's own deliver_sm decoder splits the UDH off.
		{"udh", smpp.Message{ESMClass: 0x40, DataCoding: 8, SourceAddr: "8000", DestAddr: "237690000001",
			ShortMessage: []byte{5, 0, 3, 0x2A, 2, 1, 0, 'a', 0, 'b'}}},
		{"tlvs", smpp.Message{ServiceType: "USSD", SourceAddr: "1", DestAddr: "2", ShortMessage: []byte{},
			TLVs: map[uint16][]byte{smpp.TagUSSDServiceOp: {0x12}, smpp.TagITSSessionInfo: {7, 3}}}},
	} {
		t.Run(tc.label, func(t *testing.T) {
			body, err := tc.m.MarshalBody()
			if err != nil {
				t.Fatal(err)
			}
			got, err := smpp.ParseMessage(body)
			if err != nil {
				t.Fatal(err)
			}
			if got.ServiceType != tc.m.ServiceType || got.SourceAddr != tc.m.SourceAddr || got.DestAddr != tc.m.DestAddr ||
				got.DestTON != tc.m.DestTON || got.ESMClass != tc.m.ESMClass || got.DataCoding != tc.m.DataCoding ||
				got.RegisteredDelivery != tc.m.RegisteredDelivery || !bytes.Equal(got.ShortMessage, tc.m.ShortMessage) ||
				len(got.TLVs) != len(tc.m.TLVs) {
				t.Errorf("got %+v, want %+v", got, tc.m)
			}
			for k, v := range tc.m.TLVs {
				if !bytes.Equal(got.TLVs[k], v) {
					t.Errorf("TLV %#04x = %x, want %x", k, got.TLVs[k], v)
				}
			}
		})
	}
}

func TestMessageTooLong(t *testing.T) {
	m := smpp.Message{ShortMessage: make([]byte, 255)}
	if _, err := m.MarshalBody(); !errors.Is(err, smpp.ErrInvalid) {
		t.Errorf("MarshalBody = %v, want ErrInvalid", err)
	}
}

func TestDataSMRoundTrip(t *testing.T) {
	d := smpp.DataSM{SourceAddr: "237650000001", DestAddr: "8000", ESMClass: 0x04, DataCoding: 0,
		TLVs: map[uint16][]byte{smpp.TagReceiptedMessageID: smpp.CString("42"), smpp.TagMessageState: {2}}}
	got, err := smpp.ParseDataSM(d.MarshalBody())
	if err != nil {
		t.Fatal(err)
	}
	if got.SourceAddr != d.SourceAddr || got.DestAddr != d.DestAddr || got.ESMClass != 4 ||
		string(got.TLVs[smpp.TagReceiptedMessageID]) != "42\x00" || !bytes.Equal(got.TLVs[smpp.TagMessageState], []byte{2}) {
		t.Errorf("got %+v", got)
	}
	if _, err := smpp.ParseDataSM([]byte{0, 1}); err == nil {
		t.Error("truncated data_sm decoded")
	}
}

func TestReadPDU(t *testing.T) {
	p := smpp.PDU{ID: smpp.CmdDataSMResp, Status: 0x64, Seq: 7, Body: []byte{0}}
	got, err := smpp.ReadPDU(bytes.NewReader(p.Bytes()))
	if err != nil || got.ID != p.ID || got.Status != p.Status || got.Seq != p.Seq || !bytes.Equal(got.Body, p.Body) {
		t.Fatalf("ReadPDU = %+v, %v", got, err)
	}
	for _, tc := range []struct {
		label string
		in    []byte
		want  error
	}{
		{"length under 16", []byte{0, 0, 0, 8, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 1}, smpp.ErrFraming},
		{"length over limit", []byte{0x7f, 0, 0, 0, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 1}, smpp.ErrFraming},
		{"short body", []byte{0, 0, 0, 20, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 1, 9}, io.ErrUnexpectedEOF},
		{"short header", []byte{0, 0, 0}, io.ErrUnexpectedEOF},
	} {
		if _, err := smpp.ReadPDU(bytes.NewReader(tc.in)); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.label, err, tc.want)
		}
	}
}
