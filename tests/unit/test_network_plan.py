"""The store's nft ruleset (pallet.network.plan.ruleset), as text: what dockerd's iptables and
ip6tables rules do, in pallet's own tables."""
from pallet.network.plan import ruleset


def _net(bridge, subnet, subnet6=None, internal=False, masquerade=True):
    return {"bridge": bridge, "subnet": subnet, "subnet6": subnet6, "internal": internal,
            "icc": True, "masquerade": masquerade}


def test_a_dual_stack_network_is_masqueraded_out_over_ipv6_as_dockerds_ip6tables_rules():
    text = ruleset("pallet", [_net("pallet1", "10.89.0.0/24", "fd42:97::/64"),
                              _net("pallet2", "10.89.1.0/24", "fd42:96::/64", internal=True)], [])
    six = text[text.index("table ip6 pallet {"):text.index("table ip pallet {")]
    assert 'ip6 saddr fd42:97::/64 oifname != "pallet1" masquerade' in six
    assert "fd42:96::/64" not in six  # internal: never out
    assert 'iifname "pallet1" oifname "pallet2" drop' in six  # networks isolated over IPv6 too


def test_without_a_dual_stack_network_there_is_no_ip6_table_and_an_old_one_is_deleted():
    text = ruleset("pallet", [_net("pallet1", "10.89.0.0/24")], [])
    assert "table ip6 pallet {" not in text
    assert text.startswith("table ip pallet\ndelete table ip pallet\ntable ip6 pallet\ndelete table ip6 pallet\n")
