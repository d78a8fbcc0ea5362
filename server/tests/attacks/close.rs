//! Finding 5: the close handshake. A client's Close frame was never
//! answered, and protocol errors dropped TCP without a close code.

use protocol::close;

use super::net::*;
use crate::common::*;

#[tokio::test]
async fn a_close_frame_is_answered_with_the_same_code_and_the_connection_ends() {
    let server = TestServer::start().await;
    let addr = server.addr.to_string();
    for code in [1000u16, 1001, 3000, 4999] {
        let mut ws = RawWs::connect(&addr).await;
        ws.send(CLOSE, &code.to_be_bytes(), true).await;
        assert_eq!(ws.close_code().await, Some(code));
        assert!(
            ws.ends().await,
            "the server ends the connection after the handshake"
        );
    }
    // Also once identified.
    let mut ann = Client::named(&server, "ann").await;
    ann.join("dev").await;
    ann.ws.close(None).await.expect("close sent");
    assert!(matches!(ann.recv_frame().await, Frame::Closed(_)));
}

#[tokio::test]
async fn protocol_errors_are_answered_with_1002() {
    let server = TestServer::start().await;
    let addr = server.addr.to_string();

    let mut unmasked = RawWs::connect(&addr).await;
    unmasked.send(TEXT, b"{}", false).await;
    assert_eq!(unmasked.close_code().await, Some(close::PROTOCOL_ERROR));

    let mut big_ping = RawWs::connect(&addr).await;
    big_ping.send(PING, &[b'p'; 126], true).await;
    assert_eq!(big_ping.close_code().await, Some(close::PROTOCOL_ERROR));

    let mut bad_close_code = RawWs::connect(&addr).await;
    bad_close_code
        .send(CLOSE, &1005u16.to_be_bytes(), true)
        .await;
    assert_eq!(
        bad_close_code.close_code().await,
        Some(close::PROTOCOL_ERROR)
    );

    let mut reserved_opcode = RawWs::connect(&addr).await;
    reserved_opcode.send(0x3, b"x", true).await;
    assert_eq!(
        reserved_opcode.close_code().await,
        Some(close::PROTOCOL_ERROR)
    );
}

#[tokio::test]
async fn text_that_is_not_utf8_is_answered_with_1007() {
    let server = TestServer::start().await;
    let mut ws = RawWs::connect(&server.addr.to_string()).await;
    ws.send(TEXT, b"{\"type\":\"hello\",\"name\":\"\xff\xfe\"}", true)
        .await;
    assert_eq!(ws.close_code().await, Some(close::INVALID_DATA));
}
