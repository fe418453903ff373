// Public surface of src/pcap: a classic-pcap writer with synthesised Ethernet/IPv4/TCP headers and a
// pcap/pcapng reader that reassembles TCP streams.

export { createPcapWriter, MAX_SEGMENT, type ConnectionEndpoints, type ConnectionId, type PcapWriter, type PcapWriterOptions } from './write.js';
export { readCapture, MAX_PACKET, type Capture, type TcpChunk, type TcpEndpoint, type TcpStream } from './read.js';
