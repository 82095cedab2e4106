package app

import "slices"

// Viewer is a signed-in user together with the teams they belong to: all that
// decides what they may see.
type Viewer struct {
	User    *User
	TeamIDs []int64
}

// CanSee is the one rule of who may see an item: its owner, and every member
// of its team when it is team-visible. Every read path checks it, and the list
// queries are built from the same two cases (see visibleArms).
func (v Viewer) CanSee(it *Item) bool {
	if v.User == nil {
		return false
	}
	if it.CreatorID == v.User.ID {
		return true
	}
	return it.Visibility == VisibilityTeam && it.TeamID != 0 && v.InTeam(it.TeamID)
}

// InTeam reports whether the viewer is a member of the team.
func (v Viewer) InTeam(teamID int64) bool { return slices.Contains(v.TeamIDs, teamID) }

// arm is one disjoint part of what a viewer sees: either the items they own,
// or the team-visible items of one of their teams owned by someone else.
// Listing each part separately lets every part be an ordered index scan; an
// OR across them would defeat the indexes.
type arm struct {
	ownerID int64 // the viewer's own items, when non-zero
	teamID  int64 // else one team's team-visible items not owned by the viewer
}

// visibleArms lists the parts of the tab that the creator and team filters
// can match. It mirrors CanSee: own items, plus under All each team's shared
// items.
func visibleArms(q Query) []arm {
	me := q.Viewer.User.ID
	var arms []arm
	if (q.CreatorIDs == nil || slices.Contains(q.CreatorIDs, me)) && !slices.Contains(q.NotCreatorIDs, me) {
		arms = append(arms, arm{ownerID: me})
	}
	if q.Tab != TabAll {
		return arms
	}
	othersWanted := q.CreatorIDs == nil || slices.ContainsFunc(q.CreatorIDs, func(id int64) bool { return id != me })
	if !othersWanted {
		return arms
	}
	for _, t := range q.Viewer.TeamIDs {
		if q.TeamIDs != nil && !slices.Contains(q.TeamIDs, t) || slices.Contains(q.NotTeamIDs, t) {
			continue
		}
		arms = append(arms, arm{teamID: t})
	}
	return arms
}

// CanSeeShared is who may read an item through its share link: whoever may
// see it anyway, and every member of its team, even when it is private.
func (v Viewer) CanSeeShared(it *Item) bool {
	return v.CanSee(it) || v.User != nil && it.TeamID != 0 && slices.Contains(v.TeamIDs, it.TeamID)
}
