use super::*;

#[test]
fn names_keep_the_family_name() {
    assert_eq!(name("李女士"), "李**");
    assert_eq!(name("王五"), "王*");
    assert_eq!(name("欧阳娜娜"), "欧***");
    assert_eq!(name(""), "");
}

#[test]
fn phones_keep_their_ends() {
    assert_eq!(phone("13800138000"), "138****8000");
    assert_eq!(phone("+86 138-0013-8000"), "138****8000");
    assert_eq!(phone("0898-12345678"), "0898******78");
    assert_eq!(phone("010-87654321"), "010******21");
    assert_eq!(phone("12345"), "*****");
}

#[test]
fn free_text_hides_numbers_and_the_appellant() {
    let body = "我是李女士,电话13912345678,座机0755-23456789,身份证460100199001011234,\
                住福海街道3栋2单元501室,工单20261123-000001已三天无人处理。";
    let masked = text(body, &["李女士"]);
    assert_eq!(
        masked,
        "我是李**,电话139****5678,座机0755******89,身份证460100********1234,\
         住福海街道*栋*单元***室,工单20261123-000001已三天无人处理。"
    );
    // Numbers side by side, and at the ends of the text.
    assert_eq!(
        text("13800138000/13900139000", &[]),
        "138****8000/139****9000"
    );
    // Longer digit runs are not phone numbers.
    assert_eq!(text("订单号138001380001234", &[]), "订单号138001380001234");
    assert_eq!(opaque("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"), "oUpF****");
}
