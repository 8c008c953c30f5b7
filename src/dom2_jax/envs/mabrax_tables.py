"""Multi-agent MuJoCo robot descriptions: joints, graph, partitions (pure data, no brax import).

One `Robot` per body: its actuated joints with their indices into brax's `q`, `qd` and actuator
vectors, the hyper-edges of the joint graph (for `obsk`), the observation categories per graph
distance, the root ("global") features, and the named partitions (agent -> joints). Every split
in `SPLITS` is derived from these four descriptions.

Sources, and where they disagree:
- gymnasium-robotics MaMuJoCo `mamujoco_v1` (`multiagent_mujoco/obsk.py`,
  `get_parts_and_edges`, `get_joints_at_kdist`, `build_obs`; `mujoco_multi.py`
  `map_local_actions_to_global_action`) -- the partitions below are copied in its order, which
  is the order of each agent's action vector.
- The original MaMuJoCo (schroederdewitt/multiagent_mujoco, used by OMAR) lists HalfCheetah's
  legs foot-first, `(bfoot, bshin, bthigh)`, but its `step` concatenates the agents' actions in
  the single-agent actuator order, so agent 0's actions drive (bthigh, bshin, bfoot) there too:
  the 2x3 action layout is the same in both. Both order an agent's observation by joint label
  within each graph distance, which `joints_at_distance` reproduces.
- Ant: MaMuJoCo observes `cfrc_ext` (contact forces) at distance 0; brax's generalized pipeline
  has no contact-force output, so our Ant agents see qpos/qvel only (`Robot.omitted`).
The indices were read off brax 0.14's `System` (`actuator.q_id`, `actuator.qd_id`) and are
checked against it in `tests/envs/test_mabrax.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Joint:
    name: str
    q: int  # index in brax's generalized position q (MuJoCo qpos)
    qd: int  # index in brax's generalized velocity qd (MuJoCo qvel)
    act: int  # index in brax's actuator (action) vector


@dataclass(frozen=True)
class Robot:
    brax_name: str  # brax.envs name of the single-agent task
    mamujoco_name: str  # gymnasium-robotics mamujoco_v1 scenario name
    joints: tuple[Joint, ...]  # actuated joints, in actuator order
    edges: tuple[tuple[str, ...], ...]  # hyper-edges of the joint graph
    partitions: dict[str, tuple[tuple[str, ...], ...]]  # split -> agent -> joints (action order)
    # categories observed at graph distance 0, 1, ... (the last repeats): MaMuJoCo's defaults
    k_categories: tuple[tuple[str, ...], ...] = (("qpos", "qvel"), ("qpos",))
    # root features (MaMuJoCo's global categories "qpos,qvel"): (category, index), in order
    root: tuple[tuple[str, int], ...] = ()
    qvel_clip: float | None = None  # MaMuJoCo clips Hopper's observed velocities to +-10
    omitted: tuple[str, ...] = field(default=())  # MaMuJoCo categories brax cannot provide

    def joint(self, name: str) -> Joint:
        return next(j for j in self.joints if j.name == name)


# Planar robots' root joints (rootx, rootz, rooty): MaMuJoCo's globals give qpos of z and y (x is
# excluded, as in the single-agent observation) and then qvel of all three.
PLANAR_ROOT = (("qpos", 1), ("qpos", 2), ("qvel", 0), ("qvel", 1), ("qvel", 2))


def _planar_joints(names: list[str]) -> tuple[Joint, ...]:
    """Joints after the three planar root dofs, actuated in the listed order."""
    return tuple(Joint(n, 3 + i, 3 + i, i) for i, n in enumerate(names))


HALFCHEETAH = Robot(
    brax_name="halfcheetah",
    mamujoco_name="HalfCheetah",
    joints=_planar_joints(["bthigh", "bshin", "bfoot", "fthigh", "fshin", "ffoot"]),
    edges=(
        ("bfoot", "bshin"),
        ("bshin", "bthigh"),
        ("bthigh", "fthigh"),
        ("fthigh", "fshin"),
        ("fshin", "ffoot"),
    ),
    partitions={
        "2x3": (("bthigh", "bshin", "bfoot"), ("fthigh", "fshin", "ffoot")),
        "6x1": (("bthigh",), ("bshin",), ("bfoot",), ("fthigh",), ("fshin",), ("ffoot",)),
    },
    root=PLANAR_ROOT,
)

HOPPER = Robot(
    brax_name="hopper",
    mamujoco_name="Hopper",
    joints=_planar_joints(["thigh_joint", "leg_joint", "foot_joint"]),
    edges=(("foot_joint", "leg_joint"), ("leg_joint", "thigh_joint")),
    partitions={"3x1": (("thigh_joint",), ("leg_joint",), ("foot_joint",))},
    root=PLANAR_ROOT,
    qvel_clip=10.0,
)

WALKER2D = Robot(
    brax_name="walker2d",
    mamujoco_name="Walker2d",
    joints=_planar_joints(
        [
            "thigh_joint",
            "leg_joint",
            "foot_joint",
            "thigh_left_joint",
            "leg_left_joint",
            "foot_left_joint",
        ]
    ),
    edges=(
        ("foot_joint", "leg_joint"),
        ("leg_joint", "thigh_joint"),
        ("foot_left_joint", "leg_left_joint"),
        ("leg_left_joint", "thigh_left_joint"),
        ("thigh_joint", "thigh_left_joint"),
    ),
    partitions={
        "2x3": (
            ("foot_joint", "leg_joint", "thigh_joint"),
            ("foot_left_joint", "leg_left_joint", "thigh_left_joint"),
        ),
    },
    root=PLANAR_ROOT,
)

# brax's (and gymnasium's) ant: q = [free joint (7), hip1, ankle1, hip2, ankle2, hip3, ankle3,
# hip4, ankle4], qd drops the quaternion's extra entry; actuators: hip4, ankle4, hip1, ankle1,
# hip2, ankle2, hip3, ankle3.
ANT = Robot(
    brax_name="ant",
    mamujoco_name="Ant",
    joints=tuple(
        Joint(n, q, q - 1, a)
        for n, q, a in [
            ("hip4", 13, 0),
            ("ankle4", 14, 1),
            ("hip1", 7, 2),
            ("ankle1", 8, 3),
            ("hip2", 9, 4),
            ("ankle2", 10, 5),
            ("hip3", 11, 6),
            ("ankle3", 12, 7),
        ]
    ),
    edges=(
        ("ankle4", "hip4"),
        ("ankle1", "hip1"),
        ("ankle2", "hip2"),
        ("ankle3", "hip3"),
        ("hip4", "hip1", "hip2", "hip3"),
    ),
    partitions={
        "2x4": (("hip1", "ankle1", "hip2", "ankle2"), ("hip3", "ankle3", "hip4", "ankle4")),
        "4x2": (("hip1", "ankle1"), ("hip2", "ankle2"), ("hip3", "ankle3"), ("hip4", "ankle4")),
    },
    # torso height and orientation (qpos[2:7]) and its 6-D velocity (qvel[:6])
    root=tuple(("qpos", i) for i in range(2, 7)) + tuple(("qvel", i) for i in range(6)),
    omitted=("cfrc_ext",),
)


@dataclass(frozen=True)
class Split:
    robot: Robot
    partition: str
    obsk: int  # default graph distance observed
    global_obs: bool  # default: root features appended to every agent's observation


SPLITS: dict[str, Split] = {
    # The paper's (OMAR's) protocol: obsk 0 and no global categories, so each agent sees the
    # qpos and qvel of its own three joints: 6 numbers.
    "halfcheetah_2x3": Split(HALFCHEETAH, "2x3", obsk=0, global_obs=False),
    # The rest use gymnasium-robotics mamujoco_v1's defaults: obsk 1, global categories qpos,qvel.
    "halfcheetah_6x1": Split(HALFCHEETAH, "6x1", obsk=1, global_obs=True),
    "hopper_3x1": Split(HOPPER, "3x1", obsk=1, global_obs=True),
    "walker2d_2x3": Split(WALKER2D, "2x3", obsk=1, global_obs=True),
    "ant_2x4": Split(ANT, "2x4", obsk=1, global_obs=True),
    "ant_4x2": Split(ANT, "4x2", obsk=1, global_obs=True),
}


def joints_at_distance(robot: Robot, own: tuple[str, ...], k: int) -> list[list[str]]:
    """`[d] -> joints first reached at graph distance d` (d = 0..k), each layer sorted by label.

    MaMuJoCo's `get_joints_at_kdist`: layer d+1 is every joint sharing a hyper-edge with a joint
    of layer d that no earlier layer holds.
    """
    seen, frontier, layers = set(own), set(own), [sorted(own)]
    for _ in range(k):
        frontier = {n for e in robot.edges if frontier & set(e) for n in e} - seen
        layers.append(sorted(frontier))
        seen |= frontier
    return layers


def observation_items(split: Split, obsk: int, global_obs: bool) -> list[list[tuple[str, int]]]:
    """Per agent, its observation as `(category, index)` pairs: MaMuJoCo's `build_obs` order.

    Local features first (by distance, then joint label, then category), then the root
    features when `global_obs`. `category` is "qpos" (index into q) or "qvel" (index into qd).
    """
    robot = split.robot
    out = []
    for part in robot.partitions[split.partition]:
        items = []
        for d, layer in enumerate(joints_at_distance(robot, part, obsk)):
            cats = robot.k_categories[min(d, len(robot.k_categories) - 1)]
            for joint in (robot.joint(n) for n in layer):
                items += [(c, joint.q if c == "qpos" else joint.qd) for c in cats]
        out.append(items + (list(robot.root) if global_obs else []))
    return out
