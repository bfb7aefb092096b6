function lodashRoleClaims(user, context, callback) {
  const _ = require('lodash');
  const roles = _.uniq(_.get(context, 'authorization.roles', []));
  context.idToken['https://example.com/roles'] = _.sortBy(roles);
  callback(null, user, context);
}
