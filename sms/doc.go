// Package sms encodes and decodes the short messages that the gateway sends
// and receives over SMPP 3.4: splitting a text into parts in GSM 03.38 7-bit
// or UCS-2, decoding and reassembling inbound parts, reading delivery
// receipts, and recognising the keywords citizens send (SUIVI, RDV, STOP…).
//
// Every function here is pure: no I/O, no clock. What a gateway keeps
// between the parts of an inbound message (Parts) is a value the caller
// stores where it likes: in Redis, a fleet shares it.
//
// GSM-7 parts are given unpacked, one septet per octet, because that is what
// SMSCs expect in short_message with data_coding 0 over SMPP (the SMSC packs
// for the air interface); the tests pack them to check what fits 140
// octets.
//
// The GSM 03.38 table here is the project's only one: Septets and ToGSM7
// serve the menus' screen sizing and transliteration as well as Encode.
package sms
