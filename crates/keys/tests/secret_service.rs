//! Against the real OS keyring. On Linux the test script runs the suite inside
//! `dbus-run-session` with an unlocked gnome-keyring, as the keyring crate's own CI does.

#[test]
fn set_get_replace_delete_round_trip() {
    let id = format!("plugboard-test-{}", std::process::id());
    plugboard_keys::set_key(&id, "sk-first-0000000001")
        .expect("the OS keyring is reachable (run the tests through scripts/test.sh)");
    assert_eq!(
        plugboard_keys::get_key(&id).unwrap().as_deref(),
        Some("sk-first-0000000001")
    );
    plugboard_keys::set_key(&id, "sk-second-000000002").unwrap();
    assert_eq!(
        plugboard_keys::get_key(&id).unwrap().as_deref(),
        Some("sk-second-000000002")
    );

    plugboard_keys::delete_key(&id).unwrap();
    assert_eq!(plugboard_keys::get_key(&id).unwrap(), None);
    plugboard_keys::delete_key(&id).expect("deleting twice is fine");
}
